"""Drives Adobe's umapi-client 3.x (OAuth server-to-server) against the sandbox, unchanged.

Reads the connection from the environment, exercises paging, one-user lookup, groups, user
creation, membership changes, group actions and an error reported through
execution_errors(), and prints one JSON object for the Rust test to check.
"""
import json
import os

import umapi_client
from umapi_client import (
    Connection, GroupAction, GroupsQuery, IdentityType, OAuthS2S, UserAction, UserQuery, UsersQuery,
)

env = os.environ
# No ssl_verify argument: requests trusts the sandbox through REQUESTS_CA_BUNDLE.
auth = OAuthS2S(client_id=env["CLIENT_ID"], client_secret=env["CLIENT_SECRET"], auth_host=env["IMS_HOST"])
conn = Connection(org_id=env["ORG_ID"], auth=auth, endpoint=env["UMAPI_ENDPOINT"], max_retries=1)
out = {"version": umapi_client.__version__}

users_query = UsersQuery(conn)
users = users_query.all_results()
out["users"] = [u["email"] for u in users]
out["user_stats"] = list(users_query.stats())
out["pages_fetched"] = users_query._next_page_index

ada = UserQuery(conn, "ada@example.com").result()
out["ada"] = {"type": ada.get("type"), "groups": ada.get("groups"), "country": ada.get("country")}
out["edsger_by_username"] = UserQuery(conn, "edsger", domain="example.com").result().get("email")
out["missing_user"] = UserQuery(conn, "nobody@example.com").result()

groups_query = GroupsQuery(conn)
out["groups"] = sorted((g["groupName"], g["type"]) for g in groups_query.all_results())
out["engineering"] = sorted(u["email"] for u in UsersQuery(conn, in_group="Engineering").all_results())
out["all_apps_direct"] = sorted(
    u["email"] for u in UsersQuery(conn, in_group="All Apps - Default").all_results())
out["all_apps_inherited"] = sorted(
    u["email"] for u in UsersQuery(conn, in_group="All Apps - Default", direct_only=False).all_results())
out["missing_group_members"] = UsersQuery(conn, in_group="No Such Group").all_results()

# Entries of one request may run in any order, so dependent actions go in separate requests.
new = UserAction("py.new@example.com")
new.create(email="py.new@example.com", firstname="Py", lastname="Thon", country="US",
           id_type=IdentityType.federatedID)
new.add_to_groups(groups=["Design", "Photoshop - Default"])
grace = UserAction("grace@example.com")
grace.remove_from_groups(groups=["Design"])
grace.add_to_groups(groups=["Engineering"])
bad = UserAction("barbara@example.com")
bad.add_to_groups(groups=["No Such Group"])
out["batch1"] = list(conn.execute_multiple([new, grace, bad]))
out["bad_errors"] = [{"errorCode": e["errorCode"], "command": e["command"], "target": e["target"]}
                     for e in bad.execution_errors()]
out["good_errors"] = new.execution_errors() + grace.execution_errors()

research = GroupAction("Research")
research.create(description="Thinkers")
research.add_users(["py.new@example.com", "barbara@example.com"])
research.add_to_products(["All Apps - Default"])
rename = GroupAction("Design")
rename.update(name="Visual Design", description="Pixels")
leave = UserAction("alan@example.net")
leave.remove_from_organization(delete_account=False)
out["batch2"] = list(conn.execute_multiple([research, rename, leave]))
out["batch2_errors"] = research.execution_errors() + rename.execution_errors() + leave.execution_errors()

out["research_members"] = sorted(u["email"] for u in UsersQuery(conn, in_group="Research").all_results())
out["users_after"] = sorted(u["email"] for u in UsersQuery(conn).all_results())
print(json.dumps(out))
