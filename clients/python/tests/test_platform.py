"""Round trips against a running Synthos platform (SYNTHOS_API,
SYNTHOS_API_KEY; clients/clients_test.go starts one and runs this suite):
the README example as written, uploads plain and resumable (in chunks, and
resumed after a partial chunk), a job created with an Idempotency-Key and
replayed, polled to success and downloaded, and the API's errors as typed
exceptions with their codes."""

import os
import re
import subprocess
import sys
import time
import unittest

from synthos import (
    RESUMABLE_GRANULARITY,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyKeyReusedError,
    NotFoundError,
    Synthos,
    SynthosAPIError,
)
from tests.support import PKG, REPO, platform

API, KEY = platform()
INSURANCE = os.path.join(REPO, "examples", "insurance.csv")


def _insurance():
    with open(INSURANCE, "rb") as f:
        return f.read()


def big_table(copies):
    """big_table repeats the example's rows until the table spans several
    resumable chunks; it answers the bytes and the row count."""
    header, *rows = _insurance().decode().rstrip("\n").split("\n")
    body = "\n".join(["\n".join(rows)] * copies)
    return ("%s\n%s\n" % (header, body)).encode(), len(rows) * copies


@unittest.skipIf(API is None, KEY)
class PlatformTest(unittest.TestCase):
    def setUp(self):
        self.s = Synthos(API, KEY)
        self.rows = len(_insurance().decode().rstrip("\n").split("\n")) - 1

    def test_readme_example_runs_as_written(self):
        with open(os.path.join(PKG, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        marker = "<!-- example: tests/test_platform.py runs the next python block -->"
        self.assertIn(marker, readme)
        m = re.search(r"```python\n(.*?)```", readme.split(marker, 1)[1], re.S)
        self.assertIsNotNone(m, "README.md has no ```python block after the marker")
        env = dict(os.environ, SYNTHOS_API=API, SYNTHOS_API_KEY=KEY, PYTHONPATH=PKG)
        out = subprocess.run([sys.executable, "-c", m.group(1)], cwd=os.path.join(REPO, "examples"), env=env,
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"(?m)^dataset ds_[a-z2-7]+: %d rows, 7 columns$" % self.rows)
        self.assertRegex(out.stdout, r"(?m)^job job_[a-z2-7]+ is succeeded$")
        self.assertRegex(out.stdout, r"(?m)^synthetic\.csv: 1000 rows: age,sex,bmi,children,smoker,region,charges$")
        self.assertRegex(out.stdout, r"(?m)^bad request: invalid_request \(field rows\)$")

    def test_upload_job_replay_poll_download(self):
        ds = self.s.upload(INSURANCE, idempotency_key="py-upload-%d" % time.time_ns())
        self.assertEqual((ds["status"], ds["rows"]), ("ready", self.rows))

        key = "py-job-" + ds["id"]
        request = {"dataset": ds["id"], "rows": 400, "model": "tree", "seed": 9}
        job = self.s.create_job(request, idempotency_key=key)
        self.assertEqual(self.s.create_job(request, idempotency_key=key)["id"], job["id"], "the replay answered another job")
        replay = self.s.call("createJob", headers={"Idempotency-Key": key}, body=request)
        self.assertEqual((replay.status, replay.headers.get("Idempotent-Replayed")), (202, "true"))
        self.assertEqual(replay.data["id"], job["id"])
        with self.assertRaises(IdempotencyKeyReusedError) as cm:
            self.s.create_job(dict(request, rows=401), idempotency_key=key)
        self.assertEqual(cm.exception.status, 422)

        states = []
        done = self.s.wait_for_job(job["id"], initial_delay=0.1, max_delay=1.0, on_poll=lambda j: states.append(j["state"]))
        self.assertEqual((done["state"], states[-1]), ("succeeded", "succeeded"))

        lines = self.s.download_output(job["id"]).decode().rstrip("\n").split("\n")
        self.assertEqual(lines[0], "age,sex,bmi,children,smoker,region,charges")
        self.assertEqual(len(lines) - 1, 400)
        self.assertIsInstance(self.s.get_report(job["id"]), dict)

    def test_resumable_upload_and_resume(self):
        data, rows = big_table(12)  # ~650 KB: three 256 KiB chunks
        self.assertGreater(len(data), 2 * RESUMABLE_GRANULARITY)
        progress = []
        ds = self.s.upload_resumable(data, "big.csv", chunk_size=RESUMABLE_GRANULARITY,
                                     on_progress=lambda n, t: progress.append(n))
        self.assertEqual((ds["status"], ds["rows"]), ("ready", rows))
        self.assertEqual(progress, [0, RESUMABLE_GRANULARITY, 2 * RESUMABLE_GRANULARITY, len(data)])

        # A session whose first chunk another process sent before it died:
        # resume_upload asks how far it is and sends the rest.
        up = self.s.begin_upload({"name": "resumed.csv", "size": len(data)})
        first = self.s.call("putDatasetContent", path={"id": up["dataset"]["id"]}, body=data[:RESUMABLE_GRANULARITY],
                            headers={"Content-Range": "bytes 0-%d/%d" % (RESUMABLE_GRANULARITY - 1, len(data))})
        self.assertEqual((first.status, first.headers.get("Range")), (308, "bytes=0-%d" % (RESUMABLE_GRANULARITY - 1)))
        resumed = []
        ds2 = self.s.resume_upload(up, data, chunk_size=RESUMABLE_GRANULARITY, on_progress=lambda n, t: resumed.append(n))
        self.assertEqual((ds2["status"], ds2["rows"]), ("ready", rows))
        self.assertEqual(resumed[0], RESUMABLE_GRANULARITY, "resume_upload did not start from what the server had")

    def test_errors_are_typed_with_the_api_code(self):
        def gap():
            up = self.s.begin_upload({"name": "gap.csv"})
            g = RESUMABLE_GRANULARITY
            self.s.put_dataset_content(up["dataset"]["id"], bytes(g), content_range="bytes %d-%d/*" % (g, 2 * g - 1))

        cases = [
            ("bad request", lambda: self.s.create_job({"dataset": "ds_none", "rows": 0}), BadRequestError, 400,
             "invalid_request", {"field": "rows"}),
            ("unknown job", lambda: self.s.get_job("job_doesnotexist"), NotFoundError, 404, "not_found", {}),
            ("wrong key", lambda: Synthos(API, "sk_live_" + "0" * 38).get_job("job_x"), AuthenticationError, 401, None, {}),
            ("chunk beyond the stored bytes", gap, ConflictError, 409, "upload_offset_mismatch", {}),
        ]
        for name, run, cls, status, code, details in cases:
            with self.subTest(name):
                with self.assertRaises(cls) as cm:
                    run()
                err = cm.exception
                self.assertIsInstance(err, SynthosAPIError)
                self.assertEqual(err.status, status)
                if code:
                    self.assertEqual(err.code, code)
                else:
                    self.assertTrue(err.code)
                for k, v in details.items():
                    self.assertEqual(err.details.get(k), v)
