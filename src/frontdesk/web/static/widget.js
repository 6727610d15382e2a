// Frontdesk web chat. Embed with one line on any page of a site the channel allows:
//   <script src="https://frontdesk.example/static/widget.js" data-channel="ID" defer></script>
// (optional: data-title="Acme support"). Hand-written, no dependencies, no build step.
// It lives in a shadow root, so the page's CSS and the widget's do not touch. Everything a
// person wrote is inserted as text (textContent / text nodes), never as markup.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.channel || window.fetch === undefined) return;
  const base = new URL(script.src, window.location.href).origin;
  const channel = script.dataset.channel;
  const title = script.dataset.title || "Chat with us";
  const api = `${base}/webchat/${encodeURIComponent(channel)}`;
  const PAGE = 100;

  // -- the visitor, kept in this site's localStorage --------------------------------------------
  const storeKey = `frontdesk.webchat.${base}.${channel}`;
  const saved = (() => {
    try {
      return JSON.parse(window.localStorage.getItem(storeKey)) || {};
    } catch (_) {
      return {}; // storage blocked: the session lasts as long as the page
    }
  })();
  const persist = () => {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(saved));
    } catch (_) { /* storage blocked or full: keep going in memory */ }
  };
  const randomId = () => {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  // -- the elements -----------------------------------------------------------------------------
  const el = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    node.append(...children); // strings become text nodes
    return node;
  };
  const host = el("div", { "data-frontdesk-webchat": channel });
  const root = host.attachShadow({ mode: "open" });
  const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "fd-panel" }, "Chat with us");
  const closeButton = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const quick = el("div", { class: "quick", role: "group", "aria-label": "Suggested answers", hidden: true });
  const nameInput = el("input", { id: "fd-name", name: "name", autocomplete: "name", maxlength: 200 });
  const emailInput = el("input", { id: "fd-email", name: "email", type: "email", autocomplete: "email", maxlength: 254 });
  const about = el(
    "details", { class: "about" },
    el("summary", {}, "Your name and e-mail (optional)"),
    el("label", { for: "fd-name" }, "Name"), nameInput,
    el("label", { for: "fd-email" }, "E-mail"), emailInput,
  );
  const text = el("textarea", { id: "fd-text", name: "text", rows: 2, maxlength: 10000, placeholder: "Write a message…" });
  const sendButton = el("button", { type: "submit", class: "send" }, "Send");
  // A photo or a file goes with the message (one a message); its name shows until it is sent.
  const fileInput = el("input", { id: "fd-file", name: "file", type: "file", class: "sr-only" });
  const chosen = el("span", { class: "chosen" });
  const attach = el("label", { for: "fd-file", class: "attach", title: "Attach a photo or a file" }, "📎", el("span", { class: "sr-only" }, "Attach a photo or a file"));
  const form = el(
    "form", { class: "compose" },
    el("label", { for: "fd-text", class: "sr-only" }, "Message"), text, attach, fileInput, sendButton,
  );
  const status = el("p", { class: "status", role: "status" });
  const panel = el(
    "section", { id: "fd-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "fd-title", hidden: true },
    el("header", {}, el("h2", { id: "fd-title" }, title), closeButton),
    log, quick, about, chosen, form, status,
  );
  root.append(el("style", {}, CSS()), launcher, panel);
  document.body.append(host);
  nameInput.value = saved.name || "";
  emailInput.value = saved.email || "";

  // -- opening and closing; Escape closes and gives the focus back -----------------------------
  let unread = 0;
  const showUnread = () => { launcher.textContent = unread ? `Chat with us (${unread} new)` : "Chat with us"; };
  const scrollDown = () => { log.scrollTop = log.scrollHeight; };
  const open = () => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    showUnread();
    scrollDown();
    text.focus();
  };
  const close = () => {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  };
  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });

  // -- the thread: messages in id order, whatever order they arrive in ------------------------
  const messages = new Map();
  let cursor = 0;
  let live = false; // history is not "new"; what arrives after it is
  const AUTHORS = { contact: "You", agent: "Agent" };
  // Served by Frontdesk to this visitor only (their token); only these show as pictures.
  const PICTURES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
  const contentUrl = (attachment) => `${base}${attachment.url}?token=${encodeURIComponent(saved.token || "")}`;
  const attachmentItem = (a) => {
    const name = a.file_name || a.kind;
    if (a.state === "pending") return el("li", { class: "pending" }, `${name}: fetching…`);
    if (a.state === "failed") return el("li", { class: "failed" }, `${name} could not be fetched`);
    if (a.kind === "location" && a.data) {
      const where = `https://www.openstreetmap.org/?mlat=${Number(a.data.latitude)}&mlon=${Number(a.data.longitude)}`;
      return el("li", {}, el("a", { href: where, target: "_blank", rel: "noopener noreferrer" }, `📍 ${a.data.name || "Location"}`));
    }
    if (!a.url) return el("li", {}, name);
    if (a.kind === "image" && PICTURES.has(a.mime_type)) {
      return el("li", {}, el("a", { href: contentUrl(a), target: "_blank", rel: "noopener" }, el("img", { src: contentUrl(a), alt: name })));
    }
    return el("li", {}, el("a", { href: contentUrl(a), download: name }, `📎 ${name}`));
  };
  const render = (message) => {
    if (messages.has(message.id)) return;
    const item = el(
      "li", { class: `msg ${message.direction === "in" ? "mine" : "theirs"}`, "data-author": message.author_kind },
      el("span", { class: "author" }, AUTHORS[message.author_kind] || "Automatic message"),
      el("p", {}, message.text),
      el("ul", { class: "files" }, ...(message.attachments || []).map(attachmentItem)),
      el("time", { datetime: message.created_at }, new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
    );
    const later = [...messages.values()].filter((m) => m.id > message.id).sort((a, b) => a.id - b.id)[0];
    log.insertBefore(item, later ? later.item : null);
    messages.set(message.id, { ...message, item });
    cursor = Math.max(cursor, message.id);
    if (live && message.direction === "out" && panel.hidden) { unread += 1; showUnread(); }
  };
  // The workflow's question offers its options as buttons until the visitor answers.
  const showQuickReplies = () => {
    const last = messages.get(cursor);
    const options = last && last.direction === "out" ? last.quick_replies : [];
    quick.replaceChildren(...options.map((option) => {
      const button = el("button", { type: "button" }, option);
      button.addEventListener("click", () => send(option));
      return button;
    }));
    quick.hidden = options.length === 0;
  };
  const show = (list) => {
    list.forEach(render);
    showQuickReplies();
    scrollDown();
  };
  const setStatus = (message) => { status.textContent = message; };

  // -- talking to Frontdesk ---------------------------------------------------------------------
  // `body`: sent as JSON, or as it is when it is a FormData (a file: the browser sets its type).
  const call = async (method, path, body) => {
    const headers = { Accept: "application/json" };
    const isForm = body instanceof FormData;
    if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
    if (saved.token) headers.Authorization = `Bearer ${saved.token}`;
    const response = await fetch(`${api}${path}`, {
      method, headers, body: body === undefined || isForm ? body : JSON.stringify(body), credentials: "omit", mode: "cors",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(answer.detail || `the server answered ${response.status}`);
      error.status = response.status;
      error.field = answer.field;
      throw error;
    }
    return answer;
  };
  const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
  // Network failures and 5xx are retried with the same message id: the server keeps one copy.
  const withRetries = async (attempt) => {
    for (let delay = 500; ; delay *= 2) {
      try {
        return await attempt();
      } catch (error) {
        if ((error.status && error.status < 500) || delay > 4000) throw error;
        await pause(delay);
      }
    }
  };
  const forget = () => {
    for (const key of ["visitor_id", "token", "name", "email", "renew_at"]) delete saved[key];
    persist();
  };
  const profile = () => {
    const wanted = {};
    if (nameInput.value.trim()) wanted.name = nameInput.value.trim();
    if (emailInput.value.trim()) wanted.email = emailInput.value.trim();
    return wanted;
  };
  // A session starts with the first message (no contact is made for a visitor who only looks),
  // and is told again when the visitor changes their name or e-mail. Each answer brings a fresh
  // token: its expiry is kept, and the token renewed once half its life has passed.
  const keep = (session, wanted) => {
    const expires = Date.parse(session.expires_at);
    Object.assign(saved, {
      visitor_id: session.visitor_id, token: session.token, name: wanted.name, email: wanted.email,
      renew_at: Number.isNaN(expires) ? undefined : Date.now() + (expires - Date.now()) / 2,
    });
    persist();
  };
  const ensureSession = async () => {
    const wanted = profile();
    if (saved.token && wanted.name === saved.name && wanted.email === saved.email) return;
    let session;
    try {
      session = await call("POST", "/session", saved.token ? wanted : { visitor_id: saved.visitor_id || randomId(), ...wanted });
    } catch (error) {
      if (error.status !== 401) throw error;
      forget(); // the token no longer holds (expired, or the id was taken): start afresh
      session = await call("POST", "/session", wanted);
    }
    keep(session, wanted);
    about.open = false; // kept: out of the way of the conversation
  };
  const renew = async () => {
    try {
      keep(await call("POST", "/session", {}), { name: saved.name, email: saved.email });
    } catch (error) {
      if (error.status === 401) forget();
    }
  };
  // The name and e-mail go with each message: the first one makes the visitor's contact with them.
  const post = async (id, body, file) => {
    await ensureSession();
    if (!file) return withRetries(() => call("POST", "/messages", { id, text: body, ...profile() }));
    const form = () => {
      const data = new FormData();
      for (const [key, value] of Object.entries({ id, text: body, ...profile() })) data.append(key, value);
      data.append("file", file);
      return data;
    };
    return withRetries(() => call("POST", "/messages/upload", form()));
  };
  const send = async (body, file = null) => {
    if (!body.trim() && !file) return false;
    setStatus("");
    sendButton.disabled = true;
    for (const button of quick.querySelectorAll("button")) button.disabled = true; // one answer, not two
    const id = randomId();
    try {
      let message;
      try {
        message = await post(id, body, file);
      } catch (error) {
        if (error.status !== 401) throw error;
        forget(); // the token expired since the last message: a new session, and this message again
        message = await post(id, body, file);
      }
      show([message]);
      if (!source) connect(); // after the first message: before it the visitor has nothing to follow
      return true;
    } catch (error) {
      if (error.field === "email" || error.field === "name") {
        about.open = true;
        (error.field === "email" ? emailInput : nameInput).focus();
      }
      setStatus(`Not sent: ${error.message}`);
      return false;
    } finally {
      sendButton.disabled = false;
      showQuickReplies();
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await send(text.value, fileInput.files[0] || null)) {
      text.value = "";
      fileInput.value = "";
      chosen.textContent = "";
      text.focus();
    }
  });
  fileInput.addEventListener("change", () => {
    chosen.textContent = fileInput.files[0] ? `📎 ${fileInput.files[0].name}` : "";
  });

  // -- live: Server-Sent Events; after a drop, catch up by reading, then listen again -----------
  let source = null;
  let retryTimer = null;
  let retryDelay = 1000;
  const retryLater = () => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(resume, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };
  const connect = () => {
    if (source) source.close();
    clearTimeout(retryTimer);
    if (!saved.token) return;
    source = new EventSource(`${api}/stream?after=${cursor}&token=${encodeURIComponent(saved.token)}`);
    source.addEventListener("ready", () => {
      retryDelay = 1000;
      live = true;
      host.dataset.live = "on";
    });
    source.addEventListener("message", (event) => show([JSON.parse(event.data)]));
    source.addEventListener("error", () => {
      source.close();
      source = null;
      host.dataset.live = "off";
      retryLater();
    });
  };
  const resume = async () => {
    try {
      for (;;) {
        const page = await call("GET", `/messages?after=${cursor}&limit=${PAGE}`);
        show(page.messages);
        if (page.messages.length < PAGE) break;
      }
      connect();
    } catch (error) {
      if (error.status === 401) forget(); // a stale token: the next message starts a new session
      else if (error.status === 403 || error.status === 404) setStatus("The chat is not available on this page.");
      else retryLater();
    }
  };
  if (saved.token && saved.renew_at && Date.now() > saved.renew_at) renew().then(() => saved.token && resume());
  else if (saved.token) resume();

  function CSS() {
    return `
      :host { all: initial; }
      * { box-sizing: border-box; }
      .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 600 15px/1.2 system-ui, sans-serif;
        color: #fff; background: #1f5fbf; border: 0; border-radius: 24px; padding: 12px 18px; cursor: pointer;
        box-shadow: 0 2px 8px rgba(0, 0, 0, .25); }
      .panel { position: fixed; right: 20px; bottom: 76px; z-index: 2147483000; display: flex; flex-direction: column;
        width: min(370px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px)); overflow: hidden;
        font: 15px/1.45 system-ui, sans-serif; color: #1d2330; background: #fff; border: 1px solid #c5cbd6;
        border-radius: 12px; box-shadow: 0 8px 28px rgba(0, 0, 0, .25); }
      .panel[hidden], .quick[hidden] { display: none; }
      header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; color: #fff; background: #1f5fbf; }
      h2 { margin: 0; font-size: 16px; }
      .close { font: inherit; font-size: 22px; line-height: 1; color: #fff; background: none; border: 0; border-radius: 4px; padding: 2px 8px; cursor: pointer; }
      .log { flex: 1; display: flex; flex-direction: column; gap: 6px; margin: 0; padding: 10px 12px; overflow-y: auto; list-style: none; }
      .msg { align-self: flex-start; max-width: 85%; padding: 6px 10px; border-radius: 10px; background: #eef1f5; }
      .msg.mine { align-self: flex-end; color: #fff; background: #1f5fbf; }
      .msg p { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
      .author, time { font-size: 12px; color: #4a5263; }
      .author { font-weight: 600; margin-right: 6px; }
      .msg.mine .author, .msg.mine time { color: #eaf1fd; }
      .quick { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; }
      .quick button { font: inherit; font-size: 14px; color: #1f5fbf; background: #fff; border: 1px solid #1f5fbf; border-radius: 16px; padding: 4px 12px; cursor: pointer; }
      .quick button:hover { background: #e8f0fc; }
      .about { padding: 6px 12px; border-top: 1px solid #e1e5ec; font-size: 14px; }
      .about summary { color: #1a4f9c; cursor: pointer; }
      .about label { display: block; margin-top: 4px; }
      input, textarea { width: 100%; font: inherit; color: #1d2330; background: #fff; border: 1px solid #7b8496; border-radius: 6px; padding: 6px 8px; }
      .compose { display: flex; align-items: flex-end; gap: 8px; padding: 8px 12px; border-top: 1px solid #e1e5ec; }
      .compose textarea { flex: 1; resize: none; }
      .send { font: inherit; font-weight: 600; color: #fff; background: #1f5fbf; border: 0; border-radius: 6px; padding: 8px 14px; cursor: pointer; }
      button:disabled { opacity: .6; cursor: default; }
      .files { list-style: none; margin: 0; padding: 0; }
      .files img { display: block; max-width: 100%; max-height: 200px; border-radius: 6px; }
      .msg.mine .files a { color: #fff; }
      .attach { cursor: pointer; font-size: 18px; padding: 6px 4px; }
      .chosen { padding: 0 12px; font-size: 13px; color: #4a5263; }
      .chosen:empty { padding: 0; }
      .status { margin: 0; padding: 0 12px 8px; font-size: 13px; color: #a01818; }
      .status:empty { padding: 0; }
      :focus-visible { outline: 3px solid #0b3d91; outline-offset: 2px; }
      header :focus-visible { outline-color: #fff; }
      .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    `;
  }
})();
