"""The web application: server-rendered pages (Jinja2 + htmx) over the same services as the API.

See docs/web.md for how to add a page.
"""
