"""Access to the imported assets: roles, commune row-level security, users, stale charts.

Runs with Superset's own interpreter (``.venv-superset/bin/python``), after
``superset import-datasources`` / ``import-dashboards``; called by
``motcua.bi.superset.provision_access`` with a JSON plan on stdin (never a
password on the command line). Superset's bundle format carries no roles nor
row-level security rules, hence this script; it is idempotent.

* Role ``motcua_viewer``: read access to the datasets commune and district
  users may see (the marts; not the data-quality view).
* Role ``motcua_bi``: ``motcua_viewer`` plus the data-quality view (district
  and provincial staff).
* Role ``motcua_commune_<code>`` per commune: no permission of its own, one
  row-level security rule ``commune_code = '<code>'`` on every dataset with
  commune rows (the same marts the warehouse secures for commune accounts).
* Users: created or updated with the roles of their plan (``Gamma`` + the
  above); a password only when given.
* Charts managed as code that no dashboard of the bundle uses any more are
  deleted (a changed chart is imported under a new UUID).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> None:
    plan: dict[str, Any] = json.load(sys.stdin)
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        report = apply(plan)
    print(json.dumps(report, sort_keys=True))


def apply(plan: dict[str, Any]) -> dict[str, Any]:
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.models.slice import Slice

    from superset import db, security_manager

    sm = security_manager
    datasets = {str(t.uuid): t for t in db.session.query(SqlaTable).all()}
    missing = [u for u in plan["rls_datasets"] + plan["shared_datasets"] if u not in datasets]
    if missing:
        raise SystemExit(f"datasets not imported: {missing}")

    def access(uuids: list[str]) -> list[Any]:
        perms = []
        for u in uuids:
            pv = sm.find_permission_view_menu("datasource_access", datasets[u].perm)
            if pv is None:
                raise SystemExit(f"no datasource_access permission for {datasets[u].perm}")
            perms.append(pv)
        return perms

    viewer_uuids = plan["rls_datasets"] + plan["shared_datasets"]
    roles = {
        "motcua_viewer": access(viewer_uuids),
        "motcua_bi": access(viewer_uuids + plan["bi_only_datasets"]),
    }
    for name, perms in roles.items():
        role = sm.find_role(name) or sm.add_role(name)
        role.permissions = perms
    # every commune role made before too: a new dataset gets each rule
    existing = {
        r.name.removeprefix("motcua_commune_")
        for r in sm.get_all_roles()
        if r.name.startswith("motcua_commune_")
    }
    communes = sorted(existing | {u["commune"] for u in plan["users"] if u.get("commune")})
    rls_tables = [datasets[u] for u in plan["rls_datasets"]]
    for code in communes:
        if not (len(code) == 5 and code.isdigit()):
            raise SystemExit(f"commune code {code!r}: five digits expected")
        role_name = f"motcua_commune_{code}"
        role = sm.find_role(role_name) or sm.add_role(role_name)
        rule_name = f"motcua commune {code}"
        rule = db.session.query(RowLevelSecurityFilter).filter_by(name=rule_name).one_or_none()
        if rule is None:
            rule = RowLevelSecurityFilter(name=rule_name)
            db.session.add(rule)
        rule.description = "Commune account: its own commune's rows only (spec: motcua.bi)"
        rule.filter_type = "Regular"
        rule.clause = f"commune_code = '{code}'"
        rule.group_key = "commune_code"
        rule.roles = [role]
        rule.tables = rls_tables

    users = []
    gamma = sm.find_role("Gamma")
    for entry in plan["users"]:
        wanted = [gamma, sm.find_role("motcua_viewer")]
        if entry.get("commune"):
            wanted.append(sm.find_role(f"motcua_commune_{entry['commune']}"))
        else:
            wanted.append(sm.find_role("motcua_bi"))
        user = sm.find_user(username=entry["username"])
        if user is None:
            user = sm.add_user(
                entry["username"],
                entry.get("first_name", entry["username"]),
                entry.get("last_name", "motcua"),
                entry.get("email", f"{entry['username']}@localhost"),
                wanted,
                password=entry["password"],
            )
            if not user:
                raise SystemExit(f"could not create user {entry['username']}")
        else:
            user.roles = wanted
            if entry.get("password"):
                sm.reset_password(user.id, entry["password"])
        users.append(entry["username"])

    keep = set(plan["charts"])
    stale = [
        s
        for s in db.session.query(Slice).filter(Slice.is_managed_externally.is_(True)).all()
        if str(s.uuid) not in keep
    ]
    for chart in stale:
        chart.dashboards = []
        db.session.delete(chart)
    db.session.commit()
    return {
        "roles": sorted(roles),
        "commune_roles": [f"motcua_commune_{c}" for c in communes],
        "rls_datasets": sorted(t.table_name for t in rls_tables),
        "users": users,
        "stale_charts_deleted": len(stale),
    }


if __name__ == "__main__":
    main()
