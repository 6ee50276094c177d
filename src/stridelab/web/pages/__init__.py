"""One module per page type; each exposes ``router`` with its HTML page(s) and its ``/api`` routes."""

from stridelab.web.pages._common import JSONText, render

__all__ = ["JSONText", "render"]
