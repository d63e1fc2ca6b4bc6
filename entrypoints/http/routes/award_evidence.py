"""Public routes of the award evidence (filled in by its own change)."""

from fastapi import APIRouter

router = APIRouter(tags=["public"])
