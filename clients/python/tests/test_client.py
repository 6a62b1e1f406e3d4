"""The hand-written layer against a fake transport: the resumable protocol
(chunks, a failed chunk resumed from what the server stored), polling with
backoff, and the mapping of answers to typed errors."""

import json
import re
import unittest
from unittest import mock

from synthos import (
    ConflictError,
    JobFailedError,
    NotFoundError,
    QuotaExceededError,
    ServerError,
    Synthos,
    SynthosAPIError,
    SynthosConnectionError,
    SynthosError,
)

BASE = "http://synthos.test"


class _Resp:
    def __init__(self, status, body, headers=None, ctype="application/json"):
        self.status = status
        self.headers = {"Content-Type": ctype}
        self.headers.update(headers or {})
        self._body = body if isinstance(body, bytes) else json.dumps(body).encode()

    def read(self):
        return self._body

    def close(self):
        pass


class FakeSession:
    """A resumable upload endpoint: it stores what each PUT sends, answers
    308 with Range while bytes are missing, and fails the PUTs listed in
    fail_at (by index) with 503, a chunk after storing half of it."""

    def __init__(self, total, fail_at=()):
        self.total = total
        self.fail_at = set(fail_at)
        self.stored = bytearray()
        self.log = []
        self.dataset = {"id": "ds_a", "name": "t.csv", "status": "pending"}
        self.upload = {"dataset": self.dataset, "upload_url": BASE + "/v1/datasets/ds_a/content", "method": "PUT",
                       "protocol": "resumable", "max_bytes": 1 << 30, "expires_at": "2026-01-08T00:00:00Z"}

    def __call__(self, method, url, headers, body, timeout):
        if method == "POST" and url.endswith("/v1/datasets/uploads"):
            return _Resp(201, self.upload)
        if method == "POST" and url.endswith("/v1/datasets/ds_a/complete"):
            return _Resp(200, dict(self.dataset, status="ready"))
        assert method == "PUT", method
        assert headers["Authorization"] == "Bearer k", "the API's own upload URL gets the key"
        cr = headers["Content-Range"]
        self.log.append(cr)
        failing = (len(self.log) - 1) in self.fail_at
        unavailable = _Resp(503, {"error": {"code": "unavailable", "message": "try again"}})
        if cr.startswith("bytes */"):
            return unavailable if failing else self._answer()
        start = int(re.match(r"bytes (\d+)-", cr).group(1))
        if start > len(self.stored):
            return _Resp(409, {"error": {"code": "upload_offset_mismatch", "message": "gap"}})
        fresh = body[len(self.stored) - start:]
        if failing:
            self.stored += fresh[: len(fresh) // 2]
            return unavailable
        self.stored += fresh
        return self._answer()

    def _answer(self):
        if len(self.stored) == self.total:
            return _Resp(200, self.dataset)
        return _Resp(308, self.dataset, {"Range": "bytes=0-%d" % (len(self.stored) - 1)} if self.stored else {})


@mock.patch("time.sleep", lambda s: None)  # the upload retries' backoff
class UploadTest(unittest.TestCase):
    def test_resumable_upload_resumes_a_failed_chunk(self):
        total = 3 * 262144 + 100
        data = bytes(i % 251 for i in range(total))
        fake = FakeSession(total, fail_at={2})  # PUT 0 asks where the session stands; 2 is the second chunk
        progress = []
        ds = Synthos(BASE, "k", transport=fake).upload_resumable(data, "t.csv", chunk_size=262144,
                                                                  on_progress=lambda n, t: progress.append(n))
        self.assertEqual(ds["status"], "ready")
        self.assertEqual(bytes(fake.stored), data)
        self.assertEqual(fake.log, [
            "bytes */%d" % total,
            "bytes 0-262143/%d" % total,
            "bytes 262144-524287/%d" % total,  # fails after storing half
            "bytes */%d" % total,
            "bytes 393216-524287/%d" % total,  # the rest of that chunk
            "bytes 524288-786431/%d" % total,
            "bytes 786432-%d/%d" % (total - 1, total),
        ])
        self.assertEqual(progress, [0, 262144, 524288, 786432, total])

    def test_chunk_size_must_be_a_multiple_of_256_kib(self):
        with self.assertRaisesRegex(SynthosError, "multiple of 262144"):
            Synthos(BASE, "k", transport=FakeSession(10)).upload_resumable(b"0123456789", "t.csv", chunk_size=1000)

    def test_upload_that_keeps_failing_raises_the_servers_error(self):
        fake = FakeSession(10, fail_at={1, 2, 3, 4})
        with self.assertRaises(ServerError) as cm:
            Synthos(BASE, "k", transport=fake).upload_resumable(b"0123456789", "t.csv", chunk_size=262144, retries=1)
        self.assertEqual(cm.exception.code, "unavailable")

    def test_upload_needs_a_name(self):
        with self.assertRaisesRegex(SynthosError, "name the table"):
            Synthos(BASE, "k", transport=FakeSession(1)).upload(b"x")


class WaitTest(unittest.TestCase):
    def test_backoff_retry_after_and_terminal_state(self):
        answers = [
            _Resp(200, {"id": "job_a", "state": "queued"}),
            _Resp(429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "3"}),
            _Resp(200, {"id": "job_a", "state": "fitting"}),
            _Resp(200, {"id": "job_a", "state": "sampling"}),
            _Resp(200, {"id": "job_a", "state": "sampling"}),
            _Resp(200, {"id": "job_a", "state": "succeeded"}),
        ]
        # max_retries=0: the client's own retry of a GET would take the 429.
        s = Synthos(BASE, "k", transport=lambda *a: answers.pop(0), max_retries=0)
        pauses = []
        job = s.wait_for_job("job_a", initial_delay=0.1, max_delay=0.5, sleep=pauses.append)
        self.assertEqual(job["state"], "succeeded")
        # 0.1, then 0.2 raised to the 429's Retry-After (3 s), 0.4, then capped at 0.5.
        self.assertEqual([round(p, 6) for p in pauses], [0.1, 3.0, 0.4, 0.5, 0.5])
        self.assertEqual(answers, [])

    def test_connection_errors_are_waited_out(self):
        calls = []

        def transport(*a):
            calls.append(a)
            if len(calls) == 1:
                raise SynthosConnectionError("refused")
            return _Resp(200, {"id": "job_a", "state": "succeeded"})

        job = Synthos(BASE, "k", transport=transport, max_retries=0).wait_for_job("job_a", sleep=lambda s: None)
        self.assertEqual((job["state"], len(calls)), ("succeeded", 2))

    def test_failed_job_raises_with_its_code(self):
        failed = {"id": "job_b", "state": "failed", "error": "the release gate failed", "error_code": "failed_precondition"}
        s = Synthos(BASE, "k", transport=lambda *a: _Resp(200, failed))
        with self.assertRaises(JobFailedError) as cm:
            s.wait_for_job("job_b", sleep=lambda s: None)
        self.assertEqual((cm.exception.code, cm.exception.job_id), ("failed_precondition", "job_b"))
        self.assertEqual(s.wait_for_job("job_b", raise_on_failure=False, sleep=lambda s: None)["state"], "failed")


@mock.patch("time.sleep", lambda s: None)  # the retries' backoff
class RetryTest(unittest.TestCase):
    def test_safe_requests_are_retried(self):
        cases = [
            ("GET after 503", lambda s: s.get_job("job_a"), ["503", "ok"], 2, None),
            ("GET after a connection error", lambda s: s.get_job("job_a"), ["net", "ok"], 2, None),
            ("POST with a key", lambda s: s.create_job({"dataset": "ds_a", "rows": 1}, idempotency_key="k1"), ["503", "ok"], 2, None),
            ("a monthly quota is not waited for", lambda s: s.get_job("job_a"), ["429-long"], 1, QuotaExceededError),
            ("gives up after max_retries", lambda s: s.get_job("job_a"), ["503"] * 3, 3, ServerError),
            ("POST without a key", lambda s: s.call("createKey", body={"name": "x"}), ["503"], 1, ServerError),
        ]
        for name, run, answers, want, cls in cases:
            with self.subTest(name):
                bodies = []

                def transport(method, url, headers, body, timeout, answers=list(answers)):
                    bodies.append(body)
                    a = answers.pop(0)
                    if a == "net":
                        raise SynthosConnectionError("refused")
                    if a == "503":
                        return _Resp(503, {"error": {"code": "unavailable", "message": "later"}}, {"Retry-After": "0"})
                    if a == "429-long":
                        return _Resp(429, {"error": {"code": "quota_exceeded", "message": "monthly"}}, {"Retry-After": "86400"})
                    return _Resp(202, {"id": "job_a", "state": "queued"})

                s = Synthos(BASE, "k", transport=transport)
                if cls:
                    with self.assertRaises(cls):
                        run(s)
                else:
                    self.assertEqual(run(s)["id"], "job_a")
                self.assertEqual(len(bodies), want)
                self.assertLessEqual(len(set(bodies)), 1, "a retry sent another body")


class ErrorTest(unittest.TestCase):
    def test_answers_map_to_typed_errors(self):
        cases = [
            (_Resp(404, {"error": {"code": "not_ready", "message": "not yet"}}), NotFoundError, "not_ready", None),
            (_Resp(409, {"error": {"code": "privacy_budget_exhausted", "message": "no", "details": {"remaining_epsilon": 0.5}}}),
             ConflictError, "privacy_budget_exhausted", None),
            (_Resp(429, {"error": {"code": "quota_exceeded", "message": "rows"}}, {"Retry-After": "60"}), QuotaExceededError, "quota_exceeded", 60),
            # A proxy's page, not the envelope: the status still decides the class.
            (_Resp(502, b"<html>bad gateway</html>", ctype="text/html"), ServerError, "http_502", None),
            (_Resp(418, {"error": {"code": "teapot", "message": "?"}}), SynthosAPIError, "teapot", None),
        ]
        for resp, cls, code, retry_after in cases:
            with self.subTest(code=code):
                with self.assertRaises(SynthosAPIError) as cm:
                    Synthos(BASE, "k", transport=lambda *a: resp, max_retries=0).get_job("job_c")
                self.assertIs(type(cm.exception), cls)
                self.assertEqual(cm.exception.code, code)
                self.assertEqual(cm.exception.operation, "getJob (GET /v1/jobs/{id})")
                self.assertEqual(cm.exception.retry_after, retry_after)

    def test_constructor_refuses_bad_configuration(self):
        for args, want in [(("", "k"), "base_url is required"), (("nota url", "k"), "not an http"), ((BASE, ""), "api_key is required")]:
            with self.subTest(args=args):
                with self.assertRaisesRegex(SynthosError, want):
                    Synthos(*args)
