"""Load generation with wrk (Debian's package), parsed into requests/s and p99."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{auth}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local body = [=[{body}]=]
  body = body:gsub("__N__", tostring(tid) .. "-" .. tostring(n))
  return wrk.format(nil, nil, nil, body)
end
"""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, connections: int, seconds: float, body: str | None = None,
            token: str | None = None) -> tuple[float, float]:
    """Requests/s and p99 latency (ms); ``body`` is POSTed with ``__N__`` made unique."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    with tempfile.TemporaryDirectory() as tmp:
        if body is not None:
            auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
            script = Path(tmp) / "post.lua"
            script.write_text(POST_SCRIPT.replace("{auth}", auth).replace("{body}", body))
            args += ["-s", str(script)]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return rps, float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
