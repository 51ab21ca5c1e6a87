"""The hosted admin page: a backend-for-frontend serving server-rendered HTML under /admin (docs/admin.md)."""
