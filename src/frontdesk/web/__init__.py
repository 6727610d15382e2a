"""The web: server-rendered pages (Jinja2) with a little hand-written JavaScript."""
