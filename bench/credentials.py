"""Benchmark: the cost of our encryption layer and of key rotation.

Prints, in one run:
  1. encrypt+decrypt per value through malls.crypto against bare AESGCM on the same
     data (ratio; goal <= 1.5), and against AESGCM kept in a text column (base64);
     the same through the model field (read and write of one secret);
  2. rotation of 100,000 stored secrets: rows/s (goal >= 5,000);
  3. peak memory of rotation at 10,000 and 100,000 rows, each in a fresh process
     (goal: flat, under 150 MB).

Usage: .venv/bin/python bench/credentials.py [--rows 100000] [--small 10000]
       [--values 20000] [--repeats 7]
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise).
"""

import argparse
import base64
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from _common import ROOT, argument_parser, test_database


def bench_crypto(values=20_000, repeats=7):
    """Our encrypt+decrypt against two baselines on the same data, timed interleaved.

    "bare" is AES-GCM alone (nonce, seal, open), the strict floor. "text" adds what any
    AES-GCM value kept in a text column must also do: keep the nonce with the
    ciphertext, base64 it, decode it back and return a str. The gap between "text"
    and ours is the price of what the format adds: the key id (rotation), the
    associated data binding a value to its row and field, and the Ciphertext type.
    Runs alternate (ours, bare, text, ours, ...) so that a load change on a shared
    machine weighs on all three alike; each figure is the median of its runs.
    """
    from binascii import a2b_base64, b2a_base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from malls import crypto

    key = os.urandom(32)
    ring = crypto.parse_keys("k1:" + base64.b64encode(key).decode())
    bare = AESGCM(key)
    secrets_ = [f"secret-{i:08d}-0123456789abcdef" for i in range(values)]
    context = "malls.makeshopconnection.password.0b7e6f1c-5b0e-4d1e-9a55-6d6c1e1f0a11"

    def ours():
        for s in secrets_:
            crypto.decrypt(crypto.encrypt(s, context=context, keyring=ring), context=context,
                           keyring=ring)

    def baseline():
        aad = context.encode()
        for s in secrets_:
            nonce = os.urandom(12)
            bare.decrypt(nonce, bare.encrypt(nonce, s.encode(), aad), aad)

    def text_baseline():
        aad = context.encode()
        for s in secrets_:
            nonce = os.urandom(12)
            stored = b2a_base64(nonce + bare.encrypt(nonce, s.encode(), aad),
                                newline=False).decode()
            raw = a2b_base64(stored, strict_mode=True)
            bare.decrypt(raw[:12], raw[12:], aad).decode()

    runs = {ours: [], baseline: [], text_baseline: []}
    for _ in range(repeats):
        for fn, times in runs.items():
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    t_ours, t_bare, t_text = (statistics.median(times) for times in runs.values())
    print(f"encrypt+decrypt per value: ours {t_ours / values * 1e6:.2f} us, "
          f"bare AESGCM {t_bare / values * 1e6:.2f} us, ratio {t_ours / t_bare:.2f} (goal <= 1.5); "
          f"AESGCM in a text column {t_text / values * 1e6:.2f} us, ratio {t_ours / t_text:.2f}")


def bench_field(values=20_000, repeats=7):
    """A secret read and written through EncryptedSecretField, against the crypto alone.

    Read: from_db_value, then the first attribute access (decrypt, SecretValue). Write:
    setting the attribute, then pre_save and get_prep_value (encrypt). One instance is
    reused, so building model instances (which costs more than all of this) is left out.
    """
    import uuid

    from malls import crypto
    from malls.makeshop.models import MakeShopConnection

    field = MakeShopConnection._meta.get_field("password")
    connection = MakeShopConnection(id=uuid.uuid4())
    ring = crypto.get_keyring()
    context = field.context_for(connection)
    token = str(crypto.encrypt("pw-0123456789abcdef", context=context))
    loaded = connection.__dict__

    def read():
        for _ in range(values):
            loaded["password"] = field.from_db_value(token, None, None)
            connection.password  # noqa: B018

    def write():
        for _ in range(values):
            connection.password = "pw-0123456789abcdef"
            field.get_prep_value(field.pre_save(connection, True))

    def decrypt():
        for _ in range(values):
            crypto.decrypt(token, context=context, keyring=ring)

    def encrypt():
        for _ in range(values):
            crypto.encrypt("pw-0123456789abcdef", context=context, keyring=ring)

    runs = {read: [], decrypt: [], write: [], encrypt: []}
    for _ in range(repeats):
        for fn, times in runs.items():
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    t_read, t_decrypt, t_write, t_encrypt = (
        statistics.median(times) / values * 1e6 for times in runs.values()
    )
    print(f"through EncryptedSecretField per secret: read {t_read:.2f} us (decrypt alone "
          f"{t_decrypt:.2f} us), write {t_write:.2f} us (encrypt alone {t_encrypt:.2f} us)")


def rotation_child(rows):
    """Runs in a fresh process: build `rows` connections under key 'old', rotate to 'new'."""
    from malls import crypto

    old = crypto.generate_key_spec("old")
    os.environ["CREDENTIALS_KEYS"] = old
    with test_database(test_environment=True) as connection:
        from django.conf import settings

        from malls import services
        from malls.makeshop.models import MakeShopConnection
        from malls.models import Mall, MallShop, Store

        store = Store.objects.create(name="bench")
        mall = Mall.objects.get(code="makeshop")
        batch = 5_000
        for start in range(0, rows, batch):
            shops = MallShop.objects.bulk_create(
                MallShop(store=store, mall=mall, name=f"s{i}")
                for i in range(start, min(rows, start + batch))
            )
            MakeShopConnection.objects.bulk_create(
                MakeShopConnection(
                    shop=shop, makeshop_shop_id=f"shop{shop.pk}", password="pw-0123456789",
                    order_auth_code="0123456789abcdef0123456789abcdef",
                    product_auth_code="product-0123456789",
                )
                for shop in shops
            )
        connection.close()  # start the measured part with nothing cached
        gc.collect()
        settings.CREDENTIALS_KEYS = crypto.generate_key_spec("new") + "," + old
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = services.rotate_credentials_keys()
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert report.rotated == rows, report
        # A second rotation, to a third key, under tracemalloc: the peak of Python memory
        # that rotation itself allocates (tracing slows it, so it is not the timed run).
        third = crypto.generate_key_spec("third")
        settings.CREDENTIALS_KEYS = f"{third},{settings.CREDENTIALS_KEYS}"
        tracemalloc.start()
        services.rotate_credentials_keys()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(json.dumps({
            "rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
            "peak_rss_mb": rss_after / 1024, "rss_growth_mb": (rss_after - rss_before) / 1024,
            "traced_peak_mb": traced_peak / 2**20, "vendor": connection.vendor,
        }))


def bench_rotation(sizes):
    results = []
    for rows in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)], capture_output=True, text=True,
            cwd=ROOT, check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        print(f"rotation of {r['rows']:>7,} rows ({r['rows'] * 3:,} secrets, {r['vendor']}): "
              f"{r['rows_per_s']:,.0f} rows/s in {r['seconds']:.1f} s (goal >= 5,000); "
              f"rotation's own peak {r['traced_peak_mb']:.1f} MB (tracemalloc); process peak RSS "
              f"{r['peak_rss_mb']:.0f} MB incl. building the rows, grew "
              f"{r['rss_growth_mb']:.1f} MB while rotating")
    small, large = results[0], results[-1]
    print(f"rotation memory at {large['rows']:,} vs {small['rows']:,} rows: "
          f"{large['traced_peak_mb'] / small['traced_peak_mb']:.2f}x "
          "(flat = about 1; goal: under 150 MB)")


def main():
    parser = argument_parser(
        __doc__, smoke={"rows": 10, "small": 10, "values": 50, "repeats": 1}
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--values", type=int, default=20_000,
                        help="values per timed run of the crypto and the field (20000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each (7)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # one rotation run
    args = parser.parse_args()
    if args.child:
        rotation_child(args.child)
        return
    import django

    django.setup()
    bench_crypto(args.values, args.repeats)
    bench_field(args.values, args.repeats)
    bench_rotation(sorted({args.small, args.rows}))  # one run when both are the same size


if __name__ == "__main__":
    main()
