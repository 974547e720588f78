"""Reads every user and every group of an org with Adobe's Python client, unchanged.

This is the Python side of the side-by-side benchmark: the same data `umapi plan`
reads (all groups, then all users with their direct memberships, every page), held
in memory the way a script built on umapi-client would hold it. It prints one JSON
line with the counts so the suite can check both sides read the same org.

Environment: ORG_ID, CLIENT_ID, CLIENT_SECRET, IMS_HOST (host:port, no scheme),
UMAPI_ENDPOINT, and REQUESTS_CA_BUNDLE pointing at the sandbox's certificate.
"""
import json
import os

import umapi_client
from umapi_client import Connection, GroupsQuery, OAuthS2S, UsersQuery

env = os.environ
auth = OAuthS2S(client_id=env["CLIENT_ID"], client_secret=env["CLIENT_SECRET"], auth_host=env["IMS_HOST"])
conn = Connection(org_id=env["ORG_ID"], auth=auth, endpoint=env["UMAPI_ENDPOINT"])

groups = GroupsQuery(conn).all_results()
users = UsersQuery(conn, direct_only=True).all_results()
memberships = sum(len(u.get("groups", [])) for u in users)
print(json.dumps({
    "client": "umapi-client " + umapi_client.__version__,
    "users": len(users),
    "groups": len(groups),
    "memberships": memberships,
}))
