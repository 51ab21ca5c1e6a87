"""Helpers and builders the tests share; conftest files hold only the fixtures that call them."""
