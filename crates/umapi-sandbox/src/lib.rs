//! A UMAPI-compatible local server.
