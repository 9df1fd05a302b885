#!/usr/bin/env python3
"""The floor of a run against the double: every page a run of the issue's world reads, read and
nothing else done with them (benchmarks/naive.sh prints it beside both tools).

Usage: pages-alone.py BASE_URL SLICES
Environment: CREDICORP_API_KEY, RECONCILE_NOW. A window of 8 days before RECONCILE_NOW, like
naive.py: the events by `created`, then enquiries, decisions and payments by `updated`, pages of
100 over one kept-alive connection per chain. SLICES=1 reads each list as one cursor chain, the
way both tools read it; SLICES=K cuts each list's window in K and reads all 4×K chains at once,
which is the fastest the double can serve the window with both cores.
"""
import concurrent.futures
import datetime
import http.client
import json
import os
import sys
import time
import urllib.parse

LISTS = [("events", "created"), ("enquiries", "updated"), ("decisions", "updated"), ("payments", "updated")]


def chain(base, key, path, field, since, until):
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    after, pages = None, 0
    try:
        while True:
            query = {f"{field}_gte": stamp(since), f"{field}_lt": stamp(until), "limit": "100"}
            if after:
                query["starting_after"] = after
            connection.request("GET", f"{base.path}/public/v1/{path}?{urllib.parse.urlencode(query)}",
                               headers={"Authorization": f"Bearer {key}"})
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise SystemExit(f"pages-alone: {path} answered {answer.status}")
            page = json.loads(body)
            pages += 1
            if not page["has_more"] or not page["data"]:
                return pages
            after = page["data"][-1]["id"]
    finally:
        connection.close()


def main():
    base, slices = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
    key = os.environ["CREDICORP_API_KEY"]
    now = datetime.datetime.fromisoformat(os.environ["RECONCILE_NOW"].replace("Z", "+00:00"))
    since = now - datetime.timedelta(days=8)
    width = (now - since) / slices
    chains = [(path, field, since + width * index, since + width * (index + 1))
              for path, field in LISTS for index in range(slices)]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(chains)) as pool:
        pages = sum(pool.map(lambda job: chain(base, key, *job), chains))
    print(f"{pages} pages in {len(chains)} chains: {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
