"""synthos/_operations.py is what generate.py makes from today's
functions/api/openapi.json: a change to the document without
python3 generate.py fails here."""

import os
import unittest

import generate
from tests.support import PKG


class GeneratedTest(unittest.TestCase):
    def test_operations_file_is_current(self):
        with open(os.path.join(PKG, "synthos", "_operations.py"), encoding="utf-8") as f:
            got = f.read()
        self.assertTrue(got == generate.render(), "synthos/_operations.py is stale: run python3 generate.py in clients/python")

    def test_snake_names(self):
        cases = [
            ("getJob", "get_job"),
            ("getIPRules", "get_ip_rules"),
            ("rotateWebhookSecret", "rotate_webhook_secret"),
            ("Idempotency-Key", "idempotency_key"),
            ("from", "from_"),
            ("healthz", "healthz"),
        ]
        for name, want in cases:
            with self.subTest(name=name):
                self.assertEqual(generate.snake(name), want)
