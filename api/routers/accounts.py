"""`/v1/accounts`: each account's leading indicator (growth of non-critical questions over 90 days)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from api.auth import AUTH_RESPONSES, require_permission
from api.deps import RuntimeDep
from api.schemas import AccountTrendOut
from clustering.trends import load_account_trends
from usecases.permissions import Permission

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=AUTH_RESPONSES)


@router.get("", response_model=list[AccountTrendOut], dependencies=[Depends(require_permission(Permission.READ))])
def get_accounts(
    runtime: RuntimeDep,
    rising_only: bool = Query(default=False, description="Only accounts whose leading indicator fired."),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=2**62),
) -> list[AccountTrendOut]:
    """Accounts with their 90-day trend, rising ones first, then by how fast their focus subject grows."""
    trends = [t for t in load_account_trends(runtime) if t.rising or not rising_only]
    return [AccountTrendOut(**asdict(t)) for t in trends[offset : offset + limit]]
