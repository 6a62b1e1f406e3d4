"""Every operation of functions/api/openapi.json is a method of Synthos
(named after its operationId) and reachable through call(operationId);
each sends its method and path.

A method per operationId rather than call() alone: editors complete and
document them, and a typo fails as AttributeError at the call, not as an
unknown-operation error at run time. call() stays for code that holds the
id as data. Both are checked here against every operation."""

import unittest
import urllib.parse

import generate
from synthos import OPERATIONS, Synthos, SynthosError
from tests.support import spec_operations


class _Resp:
    def __init__(self, status=200, body=b"{}", headers=None):
        self.status = status
        self.headers = {"Content-Type": "application/json"}
        self.headers.update(headers or {})
        self._body = body

    def read(self):
        return self._body

    def close(self):
        pass


class OperationsTest(unittest.TestCase):
    def setUp(self):
        self.seen = []

        def transport(method, url, headers, body, timeout):
            self.seen.append((method, urllib.parse.urlsplit(url), headers, body))
            return _Resp()

        self.client = Synthos("http://synthos.test", "sk_test_x", transport=transport)
        self.spec = spec_operations()
        self.assertTrue(self.spec, "no operations read from openapi.json")

    def args(self, op_id):
        op = OPERATIONS[op_id]
        args = ["%s-1" % p for p in op["path_params"]]
        body = {"none": None, "json": {}, "multipart": {"file": ("t.csv", b"a\n")}, "binary": b"\x01"}[op["request"]]
        return op, args, body

    def check(self, op_id, method, path):
        self.assertEqual(len(self.seen), 1, "%s sent %d requests" % (op_id, len(self.seen)))
        got_method, url, headers, _ = self.seen[0]
        self.assertEqual(got_method, method, op_id)
        want = path
        for name in OPERATIONS[op_id]["path_params"]:
            want = want.replace("{%s}" % name, "%s-1" % name)
        self.assertEqual(urllib.parse.unquote(url.path), want, op_id)
        self.assertEqual(headers["Authorization"], "Bearer sk_test_x", op_id)

    def test_table_matches_document(self):
        self.assertEqual(sorted(OPERATIONS), sorted(op_id for op_id, _, _ in self.spec))
        for op_id, method, path in self.spec:
            self.assertEqual((OPERATIONS[op_id]["method"], OPERATIONS[op_id]["path"]), (method, path), op_id)

    def test_every_operation_has_a_method(self):
        for op_id, method, path in self.spec:
            with self.subTest(operation=op_id):
                name = generate.snake(op_id)
                self.assertTrue(callable(getattr(self.client, name, None)), "Synthos has no method %s for %s" % (name, op_id))
                op, args, body = self.args(op_id)
                if body is not None:
                    args.append(body)
                self.seen.clear()
                getattr(self.client, name)(*args)
                self.check(op_id, method, path)

    def test_every_operation_through_call(self):
        for op_id, method, path in self.spec:
            with self.subTest(operation=op_id):
                op, args, body = self.args(op_id)
                self.seen.clear()
                self.client.call(op_id, path=dict(zip(op["path_params"], args)), body=body)
                self.check(op_id, method, path)

    def test_call_refuses_unknown_operation_and_missing_path(self):
        with self.assertRaisesRegex(SynthosError, "unknown operation 'nope'"):
            self.client.call("nope")
        with self.assertRaisesRegex(SynthosError, "path parameter id is required"):
            self.client.call("getJob")
        self.assertEqual(self.seen, [])

    def test_parameters_are_sent(self):
        self.client.list_jobs(limit=5, cursor="c/1")
        self.assertEqual(urllib.parse.parse_qs(self.seen[0][1].query), {"limit": ["5"], "cursor": ["c/1"]})
        self.seen.clear()
        self.client.get_audit_consistency(from_=1, to=2)
        self.assertEqual(urllib.parse.parse_qs(self.seen[0][1].query), {"from": ["1"], "to": ["2"]})
        self.seen.clear()
        self.client.create_job({"dataset": "ds_a", "rows": 10}, idempotency_key="k-1")
        self.assertEqual(self.seen[0][2]["Idempotency-Key"], "k-1")
        self.assertEqual(self.seen[0][2]["Content-Type"], "application/json")
        self.assertEqual(self.seen[0][3], b'{"dataset": "ds_a", "rows": 10}')
