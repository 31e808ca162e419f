"""The role table itself: who holds what, how roles nest, what a refusal says."""

from __future__ import annotations

import pytest

from kitops.domain import roles
from kitops.domain.roles import PERMISSIONS, Role, allows, parse_role, permissions_of, refusal
from kitops.errors import InvalidInput

JOBS = {"reorder.run", "expiry.sweep", "payment.sync", "webhook.deliver", "alert.send"}


def test_the_job_role_holds_the_jobs_and_nothing_else():
    # the jobs, and the nightly backup (a cron job that changes nothing)
    assert set(permissions_of(Role.JOB)) == JOBS | {"db.backup"}


def test_roles_nest_stockroom_within_manager_within_admin():
    stockroom, manager, admin = (set(permissions_of(r)) for r in (Role.STOCKROOM, Role.MANAGER,
                                                                   Role.ADMIN))  # fmt: skip
    assert stockroom < manager < admin
    assert admin == set(PERMISSIONS)


@pytest.mark.parametrize(
    ("permission", "lowest"),
    [
        ("stock.receive", Role.STOCKROOM), ("stock.count", Role.STOCKROOM),
        ("kit.assemble", Role.STOCKROOM), ("course.fulfil", Role.STOCKROOM),
        ("session.record", Role.STOCKROOM), ("order.pay", Role.STOCKROOM),
        ("lot.release", Role.MANAGER), ("lot.recall", Role.MANAGER),
        ("stock.writeoff_large", Role.MANAGER), ("po.approve", Role.MANAGER),
        ("order.refund", Role.MANAGER), ("report.run", Role.MANAGER),
        ("audit.read", Role.MANAGER), ("user.manage", Role.ADMIN), ("token.manage", Role.ADMIN),
        ("catalog.edit", Role.ADMIN), ("setting.set", Role.ADMIN), ("import.run", Role.ADMIN),
    ],
)  # fmt: skip
def test_each_permission_starts_at_its_role(permission, lowest):
    order = [Role.STOCKROOM, Role.MANAGER, Role.ADMIN]
    for role in order:
        assert allows(role, permission) == (order.index(role) >= order.index(lowest)), role
    assert allows(Role.JOB, permission) is False


def test_a_refusal_names_the_user_the_role_the_action_and_who_may():
    assert refusal("alice", "stockroom", "lot.recall") == (
        "alice (stockroom) may not recall a lot: a manager may"
    )
    assert refusal("cron", Role.JOB, "stock.receive") == (
        "cron (job) may not receive stock: stockroom staff may"
    )
    assert refusal("stock", "stockroom", "reorder.run") == (
        "stock (stockroom) may not run the reorder job: a manager or a job user may"
    )
    assert refusal("bob", "manager", "user.manage", doing="add users") == (
        "bob (manager) may not add users: an admin may"
    )


def test_every_permission_reads_as_an_action_and_the_bootstrap_ones_exist():
    for name, permission in PERMISSIONS.items():
        assert name == permission.name
        assert permission.doing[:1].islower()
        assert permission.roles
    assert set(PERMISSIONS) >= roles.BOOTSTRAP


def test_roles_parse_in_any_case_and_nothing_else():
    assert parse_role(" Manager ") is Role.MANAGER
    with pytest.raises(InvalidInput, match=r"role 'owner': must be one of stockroom\|manager"):
        parse_role("owner")
    with pytest.raises(KeyError, match=r"no permission named 'lot\.burn'"):
        allows(Role.ADMIN, "lot.burn")
