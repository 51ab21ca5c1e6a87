"""The admin page's pages: each module exposes `router` (admin.web.Router); handlers/page.py serves them all."""
