"""The HTTP face: FastAPI app factory, JSON API routers (`/v1/...`) and their dependencies."""
