"""Values SmarterTrack keeps in related rows, filled into a batch of records.

Organizations are not a column of st_Users: st_OrganizationFilters says which users
belong to which organization, by user id, by address or by email domain. The filters
and the KB category tree are small, so they are read once; group and role memberships
are read per batch of agents, in one query each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select

from connectors.sql.batching import chunks
from connectors.sql.catalog import column

if TYPE_CHECKING:
    from connectors.smartertrack.source import SmarterTrackSource

MAX_DEPTH = 20  # a category tree deeper than this is a loop


def email_domain(address: Any) -> str | None:
    if not isinstance(address, str) or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower() or None


def website_host(url: Any) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    text = url.strip()
    host = urlsplit(text if "//" in text else "//" + text).hostname
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


class Related:
    def __init__(self, source: SmarterTrackSource) -> None:
        self.source = source
        self._filters: tuple[dict, dict, dict, dict, dict] | None = None
        self._categories: dict[Any, tuple[Any, str | None]] | None = None

    def _table(self, name: str) -> Any:
        return self.source.catalog.table(self.source.prefix + name)

    # -- organizations ----------------------------------------------------------------------

    def _load_filters(self) -> tuple[dict, dict, dict, dict, dict]:
        """(by user id, by address, by domain, domains per organization, names per organization)."""
        if self._filters is None:
            by_user: dict[Any, Any] = {}
            by_email: dict[str, Any] = {}
            by_domain: dict[str, Any] = {}
            domains: dict[Any, list[str]] = {}
            names: dict[Any, Any] = {}
            orgs = self._table("Organizations")
            if orgs is not None and column(orgs, "OrganizationId") is not None:
                name = column(orgs, "OrganizationName")
                if name is not None:
                    names = dict(self.source.rows(select(column(orgs, "OrganizationId"), name), "read organizations"))
            filters = self._table("OrganizationFilters")
            org_id, value = (
                (column(filters, "OrganizationId"), column(filters, "FilterValue"))
                if filters is not None
                else (None, None)
            )
            if org_id is not None and value is not None:
                user = column(filters, "UserId")
                order = column(filters, "OrganizationFilterId")
                order = org_id if order is None else order
                query = select(org_id, value, user if user is not None else value).order_by(order)
                for org, raw, user_id in self.source.rows(query, "read organization filters"):
                    if user is not None and user_id is not None:
                        by_user.setdefault(user_id, org)
                        continue
                    text = (raw or "").strip().lower()
                    if not text:
                        continue
                    if text.startswith("*@") or text.startswith("@"):
                        text = text.split("@", 1)[1]
                    elif "@" in text:
                        by_email.setdefault(text, org)
                        continue
                    text = text.removeprefix("*.")
                    by_domain.setdefault(text, org)
                    domains.setdefault(org, []).append(text)
            self._filters = (by_user, by_email, by_domain, domains, names)
        return self._filters

    def add_organizations(self, datas: list[dict[str, Any]]) -> None:
        by_user, by_email, by_domain, _, names = self._load_filters()
        for data in datas:
            email = data.get("email")
            org = by_user.get(data.get("id"))
            if org is None and isinstance(email, str):
                org = by_email.get(email.strip().lower())
                if org is None:
                    org = by_domain.get(email_domain(email) or "")
            data["organization_id"] = org
            data["organization"] = names.get(org) if org is not None else None

    def add_domains(self, datas: list[dict[str, Any]]) -> None:
        _, _, _, domains, _ = self._load_filters()
        for data in datas:
            found = list(domains.get(data.get("id"), []))
            data["domains"] = found
            data["domain"] = found[0] if found else website_host(data.get("website"))

    # -- agents ---------------------------------------------------------------------------------

    def add_memberships(self, datas: list[dict[str, Any]]) -> None:
        ids = [data["id"] for data in datas if data.get("id") is not None]
        groups: dict[Any, list[str]] = {}
        roles: dict[Any, list[str]] = {}
        in_groups, group_table = self._table("UsersInGroups"), self._table("Groups")
        if in_groups is not None and group_table is not None:
            user, group = column(in_groups, "UserId"), column(in_groups, "GroupId")
            group_id, group_name = column(group_table, "GroupId"), column(group_table, "GroupName")
            if all(c is not None for c in (user, group, group_id, group_name)):
                for chunk in chunks(ids):
                    query = (
                        select(user, group_name)
                        .select_from(in_groups.join(group_table, group == group_id))
                        .where(user.in_(list(chunk)))
                        .order_by(user, group_name)
                    )
                    for user_id, name in self.source.rows(query, "read group memberships"):
                        groups.setdefault(user_id, []).append(name)
        in_roles, role_table = self._table("UsersInRoles"), self._table("Roles")
        if in_roles is not None and role_table is not None:
            user, role = column(in_roles, "UserId"), column(in_roles, "RoleId")
            role_id, role_name = column(role_table, "RoleId"), column(role_table, "RoleName")
            if all(c is not None for c in (user, role, role_id, role_name)):
                for chunk in chunks(ids):
                    query = (
                        select(user, role_name)
                        .select_from(in_roles.join(role_table, role == role_id))
                        .where(user.in_(list(chunk)))
                        .order_by(user, role_name)
                    )
                    for user_id, name in self.source.rows(query, "read role memberships"):
                        roles.setdefault(user_id, []).append(name)
        for data in datas:
            data["groups"] = groups.get(data.get("id"), [])
            data["roles"] = roles.get(data.get("id"), [])

    # -- knowledge base ---------------------------------------------------------------------

    def _load_categories(self) -> dict[Any, tuple[Any, str | None]]:
        if self._categories is None:
            self._categories = {}
            table = self._table("KbCategories")
            if table is not None:
                key = column(table, "KbCategoryId")
                parent = column(table, "KbCategoryIdParent")
                name = column(table, "CategoryName")
                if key is not None:
                    query = select(key, parent if parent is not None else key, name if name is not None else key)
                    for cat, up, label in self.source.rows(query, "read KB categories"):
                        self._categories[cat] = (
                            up if parent is not None else None,
                            label if name is not None else None,
                        )
        return self._categories

    def add_category_paths(self, datas: list[dict[str, Any]]) -> None:
        tree = self._load_categories()
        for data in datas:
            names: list[str] = []
            current, depth = data.get("id"), 0
            while current is not None and current in tree and depth < MAX_DEPTH:
                parent, label = tree[current]
                names.append(str(label or current))
                current, depth = parent, depth + 1
            data["level"] = len(names) or None
            data["path"] = " / ".join(reversed(names)) or None
