"""Debian's dovecot (dovecot-imapd) as a throw-away IMAP server on a free loopback port: its own
config, passwd-file and Maildir in a temporary folder, plain login allowed (loopback only) — or,
given the test CA's certificates, TLS required: STARTTLS on that port, TLS from the first byte on
another (as 143 and 993). Given an introspection URL, it takes OAuth2 logins too (SASL XOAUTH2 and
OAUTHBEARER, its oauth2 passdb asking the URL whether a token is active and whose it is).

As root, mail is kept by Debian's `mail` user and the login processes run as `dovenull`; as
anyone else, everything runs as that user. `make test` installs the package as it installs
chromium (`make dovecot`); without it the IMAP tests are skipped, saying so.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.tls import Certificates

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "support@acme.example", "mailbox-password"
_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
auth_failure_delay = 0  # and no penalty (anvil's socket closed): the tests log in wrongly on purpose
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
"""
_OAUTH2_PASSDB = """passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
"""
# dovecot 2.3's oauth2 passdb: the token POSTed as `token=` to the URL (RFC 7662), active when the
# answer's `active` is true, the user its `email`
_OAUTH2 = """introspection_mode = post
introspection_url = {url}
username_attribute = email
active_attribute = active
active_value = true
"""


class Dovecot:
    """A dovecot master process (started and stopped by its PID) with one mailbox user."""

    def __init__(
        self, more_config: str = "", certificates: Certificates | None = None, introspection_url: str = ""
    ) -> None:
        self.more_config = more_config  # settings added to the test's configuration
        self.certificates = certificates  # TLS required, with the CA's certificate for 127.0.0.1
        self.introspection_url = introspection_url  # OAuth2 logins taken, their tokens asked there
        self.root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
        self.port = free_port()
        self.tls_port = free_port() if certificates is not None else 0  # TLS from the first byte
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def installed() -> bool:
        return DOVECOT.exists()

    def start(self) -> None:
        self.root.chmod(0o755)  # the mail user reaches its home below it
        mail_user = pwd.getpwnam("mail") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
        login_user = "dovenull" if os.getuid() == 0 else mail_user.pw_name
        internal = "dovecot" if os.getuid() == 0 else mail_user.pw_name
        home = self.root / "home"
        home.mkdir()
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        config = _CONFIG.format(
            root=self.root,
            port=self.port,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            login_user=login_user,
            internal_user=internal,
            internal_group=internal,
            ssl=self._ssl(),
            imaps_port=self.tls_port,
            oauth2_mechanisms=" xoauth2 oauthbearer" if self.introspection_url else "",
            oauth2_passdb=_OAUTH2_PASSDB.format(root=self.root) if self.introspection_url else "",
        )
        if self.introspection_url:
            (self.root / "oauth2.conf").write_text(_OAUTH2.format(url=self.introspection_url))
        (self.root / "dovecot.conf").write_text(config + self.more_config)
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(self.root / "dovecot.conf")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.client(timeout=2).logout()
                return
            except (OSError, imaplib.IMAP4.error):
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else "(no log)"

    def client(self, timeout: float = 10) -> imaplib.IMAP4:
        """Logged in as the mailbox user (over STARTTLS, trusting the test CA, when TLS is required)."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=timeout)
        try:
            if self.certificates is not None:
                client.starttls(ssl.create_default_context(cafile=self.certificates.ca_file))
            client.login(USER, PASSWORD)
        except BaseException:
            client.shutdown()
            raise
        return client

    def _ssl(self) -> str:
        if self.certificates is None:
            return "ssl = no"
        pair = self.certificates.loopback
        return f"ssl = required\nssl_cert = <{pair.cert}\nssl_key = <{pair.key}"

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """The mail put in the mailbox by a real IMAP APPEND, as a mail client files it."""
        with self.client() as client:
            client.create(mailbox)  # refused (NO) when it exists: harmless
            status, answer = client.append(mailbox, None, None, raw)
            assert status == "OK", answer

    def renumber(self, mailbox: str) -> None:
        """Delete the mailbox and make it again, keeping its mail: the server gives it a new
        UIDVALIDITY and numbers its mail anew (as a restored or migrated mailbox is)."""
        with self.client() as client:
            client.select(mailbox)
            _, found = client.search(None, "ALL")
            kept = []
            for number in found[0].split():
                _, data = client.fetch(number, "(BODY.PEEK[])")
                kept.append(data[0][1])
            client.close()
            client.delete(mailbox)
            client.create(mailbox)
            for raw in kept:
                client.append(mailbox, None, None, raw)

    def uidvalidity(self, mailbox: str) -> int:
        with self.client() as client:
            _, data = client.status(mailbox, "(UIDVALIDITY)")
        return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))


_mailboxes = itertools.count(1)


def running(certificates: Certificates | None = None, introspection_url: str = "") -> Iterator[Dovecot]:
    """A module's server (its fixture yields from this), or the module skipped saying why."""
    if not Dovecot.installed():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; make test does it as root)")
    server = Dovecot(certificates=certificates, introspection_url=introspection_url)
    server.start()
    yield server
    server.stop()


def new_mailbox(dovecot: Dovecot, prefix: str) -> str:
    """A mailbox of the test's own in the module's server."""
    name = f"{prefix}{next(_mailboxes)}"
    with dovecot.client() as client:
        client.create(name)
    return name
