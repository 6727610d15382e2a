// Live inbox: an EventSource says what changed; the page re-reads the server-rendered parts.
// Everything shown comes from the server's templates, which escape user content.
(() => {
  "use strict";
  const main = document.querySelector("main.inbox");
  if (!main) return;
  const list = document.getElementById("list");
  const thread = document.getElementById("thread");
  const filters = () => {
    const params = new URLSearchParams({ view: main.dataset.view, status: main.dataset.status });
    if (main.dataset.team) params.set("team", main.dataset.team);
    if (main.dataset.channel) params.set("channel", main.dataset.channel);
    return params;
  };
  const query = () => {
    const params = filters();
    if (main.dataset.selected) params.set("c", main.dataset.selected);
    return params.toString();
  };
  // The open thread on the page the agent reads: the newest, or an earlier one (`before`).
  const threadUrl = (selected) => {
    const params = filters();
    if (main.dataset.before) params.set("before", main.dataset.before);
    return `/inbox/conversations/${selected}?${params}`;
  };
  // Replace `target` with the server's fresh HTML, keeping what the agent is typing: the fields
  // are read at the moment of the swap (not when the request left), so no keystroke is lost.
  const fetchInto = async (url, target) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.redirected || response.status === 401) { window.location = "/login"; return; }
    if (!response.ok) return;
    const html = await response.text();
    const restore = keepDrafts(target);
    target.innerHTML = html;
    restore();
    countSegments();
  };
  let pending = null;
  const refresh = (changes) => {
    const selected = Number(main.dataset.selected || 0);
    const touchesThread = selected && changes.some((c) => c.conversation_id === selected);
    clearTimeout(pending);
    pending = setTimeout(() => {
      fetchInto(`/inbox/list?${query()}`, list);
      if (touchesThread) refreshThread(selected);
    }, 50);
  };
  // Field values (matched by id) and focus survive a refresh; a file input cannot be given files,
  // so the chosen ones survive by keeping the input element itself.
  const keepDrafts = (root) => {
    const fields = [...root.querySelectorAll("input[id], textarea[id], select[id]")];
    const saved = fields.map((f) => [f.id, f.type === "checkbox" ? f.checked : f.type === "file" ? f : f.value]);
    const focused = document.activeElement && document.activeElement.id;
    return () => {
      for (const [id, value] of saved) {
        const field = document.getElementById(id);
        if (!field) continue;
        if (field.type === "checkbox") field.checked = value;
        else if (field.type === "file") field.replaceWith(value);
        else field.value = value;
      }
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    };
  };
  const scrollDown = () => {
    const messages = document.getElementById("messages");
    if (messages) messages.scrollTop = messages.scrollHeight;
  };
  // New messages arrive at the bottom of the newest page, which follows them; an earlier page
  // does not change with them and keeps the agent's place.
  const refreshThread = async (selected) => {
    const shown = document.getElementById("messages");
    const place = shown ? shown.scrollTop : 0;
    await fetchInto(threadUrl(selected), thread);
    const messages = document.getElementById("messages");
    if (!main.dataset.before) scrollDown();
    else if (messages) messages.scrollTop = place;
  };
  // An SMS reply's cost, recounted as the agent types, as domain/sms.py counts it on the server
  // (with the GSM-7 alphabet the server put on the element): a character is never split.
  const countSegments = () => {
    const box = document.getElementById("reply-segments");
    const text = document.getElementById("reply-text");
    if (!box || !text) return;
    const { gsm, extension } = box.dataset;
    const chars = [...text.value];
    const isGsm = chars.every((c) => gsm.includes(c) || extension.includes(c));
    const size = (c) => (isGsm ? (extension.includes(c) ? 2 : 1) : c.codePointAt(0) > 0xffff ? 2 : 1);
    const sizes = chars.map(size);
    const units = sizes.reduce((sum, n) => sum + n, 0);
    const [single, part] = isGsm ? [160, 153] : [70, 67];
    let segments = units ? 1 : 0;
    let used = 0;
    if (units > single) {
      for (const n of sizes) {
        if (used + n > part) { segments += 1; used = 0; }
        used += n;
      }
    }
    box.querySelector(".segments").textContent = `${segments} SMS segment${segments === 1 ? "" : "s"}`;
    box.querySelector(".encoding").textContent = isGsm ? "GSM-7" : "UCS-2";
    box.querySelector(".units").textContent = units;
    box.querySelector(".capacity").textContent = (units > single ? part : single) * (segments || 1);
  };
  thread.addEventListener("input", (event) => { if (event.target.id === "reply-text") countSegments(); });
  countSegments();
  scrollDown();
  // From the page's own cursor: what committed between the render and the stream is not missed.
  const source = new EventSource(`/inbox/stream?after=${Number(main.dataset.cursor || 0)}`);
  source.addEventListener("change", (event) => refresh(JSON.parse(event.data)));
  source.addEventListener("ready", () => document.body.dataset.live = "on");
})();
