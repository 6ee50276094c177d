"""One module per page type; each exposes ``router`` with its HTML page(s) and its ``/api`` routes."""
