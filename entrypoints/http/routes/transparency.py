"""Public routes of the transparency (filled in by its own change)."""

from fastapi import APIRouter

router = APIRouter(tags=["public"])
