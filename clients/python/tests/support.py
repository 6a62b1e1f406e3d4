"""Shared by the tests: the OpenAPI document's operations, and the local
platform the Go test (clients/clients_test.go) starts."""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(PKG, "..", ".."))
SPEC = os.path.join(REPO, "functions", "api", "openapi.json")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_operations():
    """spec_operations lists (operationId, METHOD, path) of every operation
    in openapi.json."""
    with open(SPEC, encoding="utf-8") as f:
        doc = json.load(f)
    return [(item[m]["operationId"], m.upper(), path) for path, item in doc["paths"].items() for m in METHODS if m in item]


def platform():
    """platform answers (api, key) from SYNTHOS_API and SYNTHOS_API_KEY, or
    (None, reason) to skip without them; under CI=true, where the Go test
    always sets them, it raises instead."""
    api, key = os.environ.get("SYNTHOS_API"), os.environ.get("SYNTHOS_API_KEY")
    if api and key:
        return api, key
    why = ("SYNTHOS_API and SYNTHOS_API_KEY are not set: the platform tests need a running Synthos "
           "platform (go test ./clients starts one)")
    if os.environ.get("CI") == "true":
        raise RuntimeError(why)
    return None, why
