#!/usr/bin/env python3
"""Writes the strict-rule fixtures in this folder (see README.md).

Each file is a complete one-batch NACHA file, valid except for the one
thing its name says. Run from this folder: python3 gen.py
"""

ODFI = "12104288"  # 121042882
RDFI = "23138010"  # 231380104


def a(v, n):
    assert len(v) <= n, v
    return v + " " * (n - len(v))


def num(v, n):
    return str(v).rjust(n, "0")


def file_header():
    return ("101" + " 231380104" + " 121042882" + "250103" + "0900" + "A094101"
            + a("FED", 23) + a("ACME", 23) + a("", 8))


def batch_header(sec="PPD", scc=225, name="ACME", cid="1234567890", desc="PAYMENT"):
    return ("5" + str(scc) + a(name, 16) + a("", 20) + a(cid, 10) + sec + a(desc, 10)
            + a("", 6) + "250106" + "   " + "1" + ODFI + num(1, 7))


def entry(tc=27, amount=100, name="JANE DOE", sec="PPD", trace=None, seq=1, account="12345",
          addenda=None):
    disc = "S " if sec in ("WEB", "TEL") else "  "
    trace = trace or ODFI + num(seq, 7)
    if sec in ("CIE", "MTE"):  # individual name at 40-54, identification at 55-76
        middle = a(name, 15) + a("ID 1", 22)
    else:
        middle = a("", 15) + a(name, 22)
    line = ("6" + str(tc) + RDFI + "4" + a(account, 17) + num(amount, 10) + middle
            + disc + ("1" if addenda else "0") + trace)
    return [line] + [ad(trace) for ad in (addenda or [])]


def addenda05(text):
    return lambda trace: "705" + a(text, 80) + num(1, 4) + trace[8:]


def addenda99(code, original_trace):
    return lambda trace: ("799" + code + original_trace + "      " + RDFI + a("", 44) + trace)


def build(sec="PPD", scc=225, name="ACME", cid="1234567890", desc="PAYMENT", entries=None,
          osc="1"):
    entries = entries or [dict()]
    es = [r for i, e in enumerate(entries) for r in entry(sec=sec, seq=i + 1, **e)]
    debit = sum(e.get("amount", 100) for e in entries if e.get("tc", 27) in (26, 27, 36, 37))
    credit = sum(e.get("amount", 100) for e in entries if e.get("tc", 27) in (21, 22, 31, 32))
    n = len(es)
    h = int(RDFI) * len(entries)
    bc = ("8" + str(scc) + num(n, 6) + num(h, 10) + num(debit, 12) + num(credit, 12)
          + a(cid, 10) + a("", 25) + ODFI + num(1, 7))
    records = 4 + n
    blocks = (records + 9) // 10
    fc = "9" + num(1, 6) + num(blocks, 6) + num(n, 8) + num(h, 10) + num(debit, 12) + num(credit, 12) + a("", 39)
    bh = batch_header(sec, scc, name, cid, desc)
    bh = bh[:78] + osc + bh[79:]
    lines = [file_header(), bh] + es + [bc, fc]
    lines += ["9" * 94] * (blocks * 10 - records)
    return lines


def write(fname, lines):
    with open(fname, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


write("valid-ppd-debit.ach", build())
write("zero-company-name.ach", build(name="0000"))
write("blank-company-name.ach", build(name=""))
write("zero-company-identification.ach", build(cid="0000000000"))
write("zero-entry-description.ach", build(desc="0000000000"))
write("zero-individual-name-web.ach", build(sec="WEB", entries=[dict(name="0000000")]))
write("zero-individual-name-tel.ach", build(sec="TEL", entries=[dict(name="0000000")]))
write("blank-individual-name-ppd.ach", build(entries=[dict(name="")]))
write("zero-receiving-company-ccd.ach", build(sec="CCD", entries=[dict(name="0000000")]))
write("tel-reversal-debit.ach", build(sec="TEL", desc="REVERSAL"))
write("tel-reversal-credit.ach", build(sec="TEL", scc=220, desc="REVERSAL", entries=[dict(tc=22)]))
write("return-fee-credit.ach", build(scc=220, desc="RETURN FEE", entries=[dict(tc=22)]))
write("return-fee-debit.ach", build(desc="RETURN FEE"))
write("autoenroll-ppd.ach", build(desc="AUTOENROLL"))
write("trace-not-odfi.ach", build(entries=[dict(trace="091000010000001")]))
write("utf8-name-95-bytes.ach", build(entries=[dict(name="JOSÉ DOE")]))
write("cjk-name.ach", build(entries=[dict(name="JANE 日本")]))
write("blank-account-ppd.ach", build(entries=[dict(account="")]))
write("cie-credit.ach", build(sec="CIE", scc=220, entries=[dict(tc=22)]))
write("zero-individual-name-cie.ach", build(sec="CIE", scc=220, entries=[dict(tc=22, name="000")]))
write("mixed-forward-and-return.ach", build(entries=[
    dict(), dict(tc=26, addenda=[addenda99("R01", "091000010000001")])]))
write("dne-prenote-osc1.ach", build(sec="DNE", scc=220, entries=[
    dict(tc=23, amount=0, addenda=[addenda05("DATE OF DEATH*010125*")])]))
write("dne-prenote-osc2.ach", build(sec="DNE", scc=220, osc="2", entries=[
    dict(tc=23, amount=0, addenda=[addenda05("DATE OF DEATH*010125*")])]))
long = build()
long[2] = long[2] + "XY"
write("long-record-96.ach", long)
