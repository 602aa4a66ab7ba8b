"""Users, memberships and login."""
