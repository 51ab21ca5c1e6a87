"""Who is asking and what they may do: Cognito login, ID-token checks, server-side sessions, CSRF, roles."""
