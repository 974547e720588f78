"""Drives Adobe's umapi-client 2.x (legacy JWT exchange through auth_dict) against the sandbox,
unchanged, and prints one JSON object for the Rust test to check."""
import json
import os

import umapi_client
from umapi_client import (
    Connection, GroupsQuery, IdentityTypes, UserAction, UserGroupAction, UserQuery, UsersQuery,
)

env = os.environ
conn = Connection(
    org_id=env["ORG_ID"],
    auth_dict={
        "tech_acct_id": env["TECH_ACCT"],
        "api_key": env["CLIENT_ID"],
        "client_secret": env["CLIENT_SECRET"],
        "private_key_file": env["PRIVATE_KEY_FILE"],
    },
    ims_host=env["IMS_HOST"],
    user_management_endpoint=env["UMAPI_ENDPOINT"],
    ssl_verify=env["CA_BUNDLE"],  # the CA-bundle option
    retry_max_attempts=1,
    logger=None,
)
out = {"version": umapi_client.__version__}

users_query = UsersQuery(conn)
out["users"] = [u["email"] for u in users_query.all_results()]
out["user_stats"] = list(users_query.stats())
out["grace"] = UserQuery(conn, "grace@example.com").result().get("type")
out["missing_user"] = UserQuery(conn, "nobody@example.com").result()
out["groups"] = sorted(g["groupName"] for g in GroupsQuery(conn).all_results())
out["design"] = sorted(u["email"] for u in UsersQuery(conn, in_group="Design").all_results())

new = UserAction(id_type=IdentityTypes.federatedID, email="py2.new@example.com")
new.create(first_name="Py", last_name="Two", country="CA")
new.add_to_groups(groups=["Photoshop - Default"], group_type="product")  # legacy list name
barbara = UserAction(id_type=IdentityTypes.federatedID, email="barbara@example.com")
barbara.add_to_groups(groups=["Design", "Engineering"])
adobe = UserAction(id_type=IdentityTypes.adobeID, email="alan@example.net")
adobe.update(first_name="Alan")  # Adobe IDs cannot be updated: an error
out["batch1"] = list(conn.execute_multiple([new, barbara, adobe]))
out["adobe_errors"] = [{"errorCode": e["errorCode"], "command": e["command"]} for e in adobe.execution_errors()]

group = UserGroupAction(group_name="Research 2")
group.create(description="Second lab")
group.add_users(users=["py2.new@example.com"])
group.add_to_products(products=["All Apps - Default"])
old = UserGroupAction(group_name="Design")
old.delete()
out["batch2"] = list(conn.execute_multiple([group, old]))
out["batch2_errors"] = group.execution_errors() + old.execution_errors()
out["research_members"] = sorted(
    u["email"] for u in UsersQuery(conn, in_group="Research 2").all_results())
print(json.dumps(out))
