#!/usr/bin/env python3
"""Writes the golden vectors in this folder from the cases below.

The expected answers come from a second, independent implementation of the evaluation that
docs/evaluation.md defines, written here in Python with the `mmh3` package as the hash: the Rust
evaluator, the origin, the edge worker and the npm package must all agree with it. Nothing here calls
or copies the Rust code; the SemVer 2.0.0 and RFC 3339 parsers below are written from those two
specifications and are the reference the Rust parsers are checked against. Run `pip install mmh3 &&
python3 tests/vectors/generate.py` after changing a case, and review the diff of the JSON by hand.

Every flag document written here first passes a structural check of the model (variants exist,
weights sum to 100000, prerequisites name earlier flags, ...), so a typo in a case fails loudly
instead of producing a vector that tests nothing. Flags with none of the version-2 fields are also
evaluated by the version-1 algorithm, which must give the same enabled and reason.

Integers beyond 2^53 stay out of these files (checked when writing): JavaScript cannot hold them, so
the npm package could not agree; the Rust tests cover them natively. SemVer numbers of any length
live inside strings and are fine.
"""
import datetime
import json
import math
import os
import re

import mmh3

HERE = os.path.dirname(os.path.abspath(__file__))

REASONS_OFF = ("FLAG_DISABLED", "PREREQUISITE_FAILED")
BOOLEAN_VARIANTS = {"off": False, "on": True}


# --- hashing ----------------------------------------------------------------------------------------
def murmur3(text):
    return mmh3.hash(text.encode("utf-8"), 0, signed=False)


def bucket(user_id, key):
    return murmur3(user_id + key) % 100


def split_point(salt, value):
    return murmur3(salt + "/" + value) % 100000


# --- SemVer 2.0.0 (semver.org) ----------------------------------------------------------------------
# Explicit ASCII sets: str.isdigit() would accept "１" (fullwidth) and other Unicode digits.
DIGITS = frozenset("0123456789")
IDENT_CHARS = DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")


def is_numeric_part(text):
    """A numeric identifier: ASCII digits, no leading zero (except "0" itself)."""
    return text != "" and set(text) <= DIGITS and (text == "0" or text[0] != "0")


def parse_semver(text):
    """(major, minor, patch, pre-release) or None; pre-release ids are ints when numeric.

    Build metadata is checked for shape and then dropped: it never takes part in precedence.
    """
    if not isinstance(text, str):
        return None
    # "+" first: build identifiers may contain "-", the version core never does.
    rest, plus, build = text.partition("+")
    if plus and not all(i != "" and set(i) <= IDENT_CHARS for i in build.split(".")):
        return None
    core, dash, pre = rest.partition("-")
    numbers = core.split(".")
    if len(numbers) != 3 or not all(is_numeric_part(n) for n in numbers):
        return None
    prerelease = []
    if dash:
        for ident in pre.split("."):
            if ident == "" or not set(ident) <= IDENT_CHARS:
                return None
            if set(ident) <= DIGITS:
                if not is_numeric_part(ident):
                    return None  # "01": a numeric identifier with a leading zero
                prerelease.append(int(ident))
            else:
                prerelease.append(ident)  # alphanumeric ("0a" is one: leading zeros are fine there)
    return int(numbers[0]), int(numbers[1]), int(numbers[2]), prerelease


def semver_cmp(a, b):
    """semver.org §11: -1, 0 or 1."""
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    pa, pb = a[3], b[3]
    if not pa or not pb:  # a release is above its pre-releases
        return (len(pa) == 0) - (len(pb) == 0)
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int) or isinstance(y, int):
            return -1 if isinstance(x, int) else 1  # numeric below alphanumeric
        return -1 if x.encode("ascii") < y.encode("ascii") else 1  # ASCII order, upper case first
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


# --- RFC 3339 date-time -> integer nanoseconds since 1970-01-01T00:00:00Z -------------------------
RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"(?:\.([0-9]{1,9}))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    return [31, 29 if is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]


def days_before_year(year):
    """Days from 0000-01-01 to the first of `year` (year 0 is a leap year: divisible by 400)."""
    return 365 * year + (year + 3) // 4 - (year + 99) // 100 + (year + 399) // 400


def days_from_civil(year, month, day):
    """Days since 1970-01-01 in the proleptic Gregorian calendar (year 0 included, which datetime lacks)."""
    days = days_before_year(year) - days_before_year(1970)
    return days + sum(days_in_month(year, m) for m in range(1, month)) + day - 1


def parse_rfc3339(text):
    """Integer nanoseconds since the Unix epoch (UTC), or None. No leap second, at most 9 digits."""
    if not isinstance(text, str):
        return None
    m = RFC3339.fullmatch(text)  # fullmatch: "$" would let a trailing "\n" through
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zulu, sign, off_h, off_m = m.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = (int(off_h) * 3600 + int(off_m) * 60) * (1 if sign == "+" else -1)
    seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    return seconds * 10**9 + int((fraction or "").ljust(9, "0"))


# --- conditions ------------------------------------------------------------------------------------
MISSING = object()


def lookup(user, field):
    """The raw value at `field`: MISSING when absent (or a path runs through a non-object)."""
    if not field.startswith("attributes."):
        return user.get(field, MISSING)
    value = user.get("attributes", MISSING)
    for part in field[len("attributes."):].split("."):
        if not isinstance(value, dict):
            return MISSING
        value = value.get(part, MISSING)
    return value


def is_number(value):
    # bool is an int subclass in Python; JSON true is not a number.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def equals(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b  # Python compares int and float by exact value: 10 == 10.0
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


COMPARE = {"lt": lambda c: c < 0, "lte": lambda c: c <= 0, "gt": lambda c: c > 0, "gte": lambda c: c >= 0,
           "semver_eq": lambda c: c == 0, "semver_lt": lambda c: c < 0, "semver_gt": lambda c: c > 0,
           "before": lambda c: c < 0, "after": lambda c: c > 0}


def sign(a, b):
    return (a > b) - (a < b)


def holds(cond, user, env):
    if "segment" in cond:
        return is_member(cond["segment"], user, env)
    if "notSegment" in cond:
        return not is_member(cond["notSegment"], user, env)
    value = lookup(user, cond["field"])
    op, expected = cond["operator"], cond["value"]
    if op == "exists":
        return (value is not MISSING and value is not None) == expected
    if value is MISSING or value is None or isinstance(value, (dict, list)):
        return False  # fail closed, neq and not_in too
    if op == "eq":
        return equals(value, expected)
    if op == "neq":
        return not equals(value, expected)
    if op == "in":
        return any(equals(value, e) for e in expected)
    if op == "not_in":
        return not any(equals(value, e) for e in expected)
    if op in ("starts_with", "ends_with", "contains"):
        if not isinstance(value, str):
            return False
        return {"starts_with": value.startswith, "ends_with": value.endswith,
                "contains": value.__contains__}[op](expected)
    if op in ("lt", "lte", "gt", "gte"):
        return is_number(value) and COMPARE[op](sign(value, expected))
    if op.startswith("semver_"):
        parsed = parse_semver(value)
        return parsed is not None and COMPARE[op](semver_cmp(parsed, parse_semver(expected)))
    if op in ("before", "after"):
        instant = parse_rfc3339(value)
        return instant is not None and COMPARE[op](sign(instant, parse_rfc3339(expected)))
    raise ValueError(op)


def conditions(rule):
    return rule["all"] if "all" in rule else [rule]


def is_member(segment_key, user, env):
    segment = env["segments"].get(segment_key)
    if segment is None:
        return False  # an unknown segment has no members
    if user["id"] in segment.get("include", []):
        return True
    return any(all(holds(c, user, env) for c in conditions(rule)) for rule in segment.get("rules", []))


# --- evaluation --------------------------------------------------------------------------------------
def variants_of(flag):
    return flag.get("variants", BOOLEAN_VARIANTS)


def off_variant(flag):
    return flag.get("offVariant", "off")


def place(serve, user, flag):
    """The variant a serve gives the user, or None when a split cannot place them."""
    if isinstance(serve, str):
        return serve
    value = lookup(user, serve.get("bucketBy", "id"))
    if not isinstance(value, str):
        return None  # missing, null, a number, ...: "" is a string and is placed
    point = split_point(serve.get("salt", flag["key"]), value)
    running = 0
    for entry in serve["split"]:
        running += entry["weight"]
        if running > point:
            return entry["variant"]
    raise AssertionError("weights do not sum to 100000")


def evaluate(flag, user, env):
    """(variant, reason) for one flag; prerequisites are looked up in the whole set, not the request."""
    if not flag.get("enabled", False):
        return off_variant(flag), "FLAG_DISABLED"
    for prerequisite in flag.get("prerequisites", []):
        other = env["flags"].get(prerequisite["flag"])
        if other is None:
            return off_variant(flag), "PREREQUISITE_FAILED"
        variant, reason = evaluate(other, user, env)
        if reason in REASONS_OFF or variant not in prerequisite["variants"]:
            return off_variant(flag), "PREREQUISITE_FAILED"
    for rule in flag.get("rules", []):
        if all(holds(c, user, env) for c in conditions(rule)):
            served = place(rule.get("serve", "on"), user, flag)
            if served is not None:
                return served, "RULE_MATCH"
    if "fallthrough" in flag:
        served = place(flag["fallthrough"], user, flag)
        if served is None:
            return off_variant(flag), "NO_MATCH"
        return served, "NO_MATCH" if isinstance(flag["fallthrough"], str) else "ROLLOUT"
    if bucket(user["id"], flag["key"]) < flag.get("rolloutPercentage", 0):
        return "on", "ROLLOUT"
    return "off", "NO_MATCH"


def evaluate_v1(flag, user):
    """The version-1 algorithm, kept as it was: a v1 document must answer exactly as before."""
    if not flag.get("enabled", False):
        return False, "FLAG_DISABLED"
    for rule in flag.get("rules", []):
        if all(holds(c, user, {"segments": {}}) for c in conditions(rule)):
            return True, "RULE_MATCH"
    if bucket(user["id"], flag["key"]) < flag.get("rolloutPercentage", 0):
        return True, "ROLLOUT"
    return False, "NO_MATCH"


V2_FIELDS = ("type", "variants", "offVariant", "prerequisites", "fallthrough")


def result(flag, user, env):
    variant, reason = evaluate(flag, user, env)
    value = variants_of(flag)[variant]
    if flag.get("type", "boolean") == "boolean":
        enabled = value
    else:
        enabled = reason not in REASONS_OFF
    out = {"flagKey": flag["key"], "enabled": enabled, "reason": reason, "variant": variant, "value": value}
    if not any(f in flag for f in V2_FIELDS) and not any("serve" in r for r in flag.get("rules", [])):
        assert (enabled, reason) == evaluate_v1(flag, user), (flag["key"], user)
        assert variant == ("on" if enabled else "off") and value is enabled, (flag["key"], user)
    return out


def utf8_sorted(keys):
    return sorted(set(keys), key=lambda k: k.encode("utf-8"))


def respond(env, request):
    keys = request["flags"] if request.get("flags") is not None else list(env["flags"])
    results = []
    for key in utf8_sorted(keys):
        if key in env["flags"]:
            results.append(result(env["flags"][key], request["user"], env))
        else:
            results.append({"flagKey": key, "enabled": False, "reason": "FLAG_NOT_FOUND", "variant": None,
                            "value": None})
    return {"results": results}


# --- building documents ------------------------------------------------------------------------------
def cond(field, op, value):
    return {"field": field, "operator": op, "value": value}


def seg(key):
    return {"segment": key}


def notseg(key):
    return {"notSegment": key}


def group(*conds):
    return {"all": list(conds)}


def rule(condition, serve):
    return dict(condition, serve=serve)


def split(*weights, bucket_by=None, salt=None):
    """split(("a", 50000), ("b", 50000), bucket_by=..., salt=...)"""
    out = {"split": [{"variant": v, "weight": w} for v, w in weights]}
    if bucket_by is not None:
        out["bucketBy"] = bucket_by
    if salt is not None:
        out["salt"] = salt
    return out


def prereq(key, *variants):
    return {"flag": key, "variants": list(variants)}


def canonical(value):
    """Object values as the origin writes them: keys sorted (byte order) at every depth."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in utf8_sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def flag(key, rules=(), enabled=True, rollout=0, description=""):
    """A version-1 document, exactly as the version-1 files have always written it."""
    f = {"key": key, "enabled": enabled, "rolloutPercentage": rollout, "rules": list(rules)}
    if description:
        f["description"] = description
    return f


def v2flag(key, type="boolean", variants=None, off=None, prerequisites=(), rules=(), fallthrough=None,
           rollout=None, enabled=True, description="", omit=()):
    """A version-2 document in the origin's serialization: keys in its order, variants sorted by name,
    a boolean rule serving the default "on" written without `serve`. `omit` drops fields on purpose,
    for the cases that test their defaults."""
    if type == "boolean":
        assert variants is None and off is None
        variants, off = BOOLEAN_VARIANTS, "off"
    f = {"key": key, "description": description, "enabled": enabled, "type": type,
         "variants": {name: canonical(variants[name]) for name in utf8_sorted(variants)}, "offVariant": off,
         "prerequisites": list(prerequisites), "rules": []}
    for r in rules:
        if type == "boolean" and r.get("serve") == "on":
            r = {k: v for k, v in r.items() if k != "serve"}
        f["rules"].append(r)
    if fallthrough is not None:
        assert rollout is None
        f["fallthrough"] = fallthrough
    else:
        assert type == "boolean"
        f["rolloutPercentage"] = rollout or 0
    for field in omit:
        del f[field]
    return f


def segment(key, include=(), rules=(), description=""):
    s = {"key": key}
    if description:
        s["description"] = description
    s["include"] = list(include)
    s["rules"] = list(rules)
    return s


# --- the structural check: every document as the origin would accept it ----------------------------
KEY = re.compile(r"[A-Za-z0-9_.-]{1,128}")
VARIANT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
OPERATORS = ("eq", "neq", "in", "not_in", "starts_with", "ends_with", "contains", "lt", "lte", "gt", "gte",
             "semver_eq", "semver_lt", "semver_gt", "before", "after", "exists")


def need(ok, where, what):
    if not ok:
        raise AssertionError(f"{where}: {what}")


def is_scalar(value):
    return isinstance(value, (str, bool)) or (is_number(value) and math.isfinite(value))


def check_field(field, where):
    need(isinstance(field, str) and (field in ("id", "email", "country") or (
        field.startswith("attributes.") and all(field[len("attributes."):].split(".")))), where, f"field {field!r}")


def check_condition(c, where, segments, dangling, in_segment):
    if "segment" in c or "notSegment" in c:
        need(not in_segment, where, "segment condition inside a segment")
        key, = c.values()
        need(key in segments or key in dangling, where, f"unknown segment {key!r}")
        return
    need(set(c) == {"field", "operator", "value"}, where, f"condition keys {sorted(c)}")
    check_field(c["field"], where + ".field")
    op, value = c["operator"], c["value"]
    need(op in OPERATORS, where, f"operator {op!r}")
    ok = {"eq": is_scalar, "neq": is_scalar,
          "in": lambda v: isinstance(v, list) and 0 < len(v) <= 10000 and all(map(is_scalar, v)),
          "starts_with": lambda v: isinstance(v, str), "ends_with": lambda v: isinstance(v, str),
          "contains": lambda v: isinstance(v, str),
          "lt": lambda v: is_number(v) and math.isfinite(v),
          "semver_eq": lambda v: parse_semver(v) is not None,
          "before": lambda v: parse_rfc3339(v) is not None,
          "exists": lambda v: isinstance(v, bool)}
    for alias, same in (("not_in", "in"), ("lte", "lt"), ("gt", "lt"), ("gte", "lt"), ("semver_lt", "semver_eq"),
                        ("semver_gt", "semver_eq"), ("after", "before")):
        ok[alias] = ok[same]
    need(ok[op](value), where + ".value", f"{value!r} for {op}")


def check_rule(r, where, segments, dangling, in_segment):
    conds = r["all"] if "all" in r else [{k: v for k, v in r.items() if k != "serve"}]
    need(1 <= len(conds) <= 20, where, "1 to 20 conditions in a group")
    need("all" not in r or set(r) <= {"all", "serve"}, where, f"group keys {sorted(r)}")
    for i, c in enumerate(conds):
        check_condition(c, f"{where}.all[{i}]" if "all" in r else where, segments, dangling, in_segment)


def check_serve(serve, variants, where):
    if isinstance(serve, str):
        need(serve in variants, where, f"unknown variant {serve!r}")
        return
    need(set(serve) <= {"split", "bucketBy", "salt"}, where, f"split keys {sorted(serve)}")
    entries = serve["split"]
    names = [e["variant"] for e in entries]
    need(len(names) == len(set(names)), where, "a variant named twice")
    for i, e in enumerate(entries):
        need(set(e) == {"variant", "weight"} and e["variant"] in variants, f"{where}.split[{i}]", "unknown variant")
        need(type(e["weight"]) is int and 0 <= e["weight"] <= 100000, f"{where}.split[{i}]", "weight")
    need(sum(e["weight"] for e in entries) == 100000, where, "weights must sum to 100000")
    if "bucketBy" in serve:
        check_field(serve["bucketBy"], where + ".bucketBy")
    if "salt" in serve:
        need(isinstance(serve["salt"], str) and 1 <= len(serve["salt"]) <= 64, where, "salt")


def check_flag(f, earlier, segments, dangling):
    where = f"flag {f.get('key')!r}"
    need(KEY.fullmatch(f["key"]), where, "key")
    need(set(f) <= {"key", "description", "enabled", "type", "variants", "offVariant", "prerequisites", "rules",
                    "rolloutPercentage", "fallthrough"}, where, f"unknown field in {sorted(f)}")
    kind = f.get("type", "boolean")
    variants = variants_of(f)
    if kind == "boolean":
        need(variants == BOOLEAN_VARIANTS and off_variant(f) == "off", where, "boolean variants")
        need(not ("fallthrough" in f and "rolloutPercentage" in f), where, "both rolloutPercentage and fallthrough")
        rollout = f.get("rolloutPercentage", 0)
        need(type(rollout) is int and 0 <= rollout <= 100, where, "rolloutPercentage")
    else:
        need(kind in ("string", "number", "object"), where, f"type {kind!r}")
        need("fallthrough" in f and "rolloutPercentage" not in f and "offVariant" in f, where,
             "fallthrough and offVariant are required, rolloutPercentage refused")
        of_type = {"string": lambda v: isinstance(v, str), "number": lambda v: is_number(v) and math.isfinite(v),
                   # 32 KiB of compact UTF-8 JSON, as the evaluator measures it.
                   "object": lambda v: isinstance(v, dict) and len(
                       json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()) <= 32768}[kind]
        need(all(map(of_type, variants.values())), where, f"a variant value is not a {kind}")
    need(1 <= len(variants) <= 50 and all(VARIANT_NAME.fullmatch(n) for n in variants), where, "variant names")
    need(off_variant(f) in variants, where, "offVariant")
    prerequisites = f.get("prerequisites", [])
    need(len(prerequisites) <= 10, where, "at most 10 prerequisites")
    for i, p in enumerate(prerequisites):
        pw = f"{where}.prerequisites[{i}]"
        need(p["flag"] != f["key"], pw, "a prerequisite on the flag itself")
        need(1 <= len(p["variants"]) <= 50, pw, "1 to 50 variants")
        # Earlier, not merely present: the origin's vector test creates flags in file order, and a
        # prerequisite must name an existing flag (which also rules out cycles).
        if p["flag"] in dangling:
            continue
        need(p["flag"] in earlier, pw, f"{p['flag']!r} is not an earlier flag")
        need(all(v in variants_of(earlier[p["flag"]]) for v in p["variants"]), pw, "unknown variant")
    need(len(f.get("rules", [])) <= 100, where, "at most 100 rules")
    for i, r in enumerate(f.get("rules", [])):
        check_rule(r, f"{where}.rules[{i}]", segments, dangling, in_segment=False)
        need("serve" in r or kind == "boolean", f"{where}.rules[{i}]", "serve is required")
        check_serve(r.get("serve", "on"), variants, f"{where}.rules[{i}].serve")
    if "fallthrough" in f:
        check_serve(f["fallthrough"], variants, where + ".fallthrough")


def check_segment(s):
    where = f"segment {s['key']!r}"
    need(KEY.fullmatch(s["key"]) and set(s) <= {"key", "description", "include", "rules"}, where, "fields")
    include = s["include"]
    need(len(include) <= 10000 and len(set(include)) == len(include), where, "include: unique, at most 10,000")
    need(len(s["rules"]) <= 100, where, "at most 100 rules")
    for i, r in enumerate(s["rules"]):
        need("serve" not in r, f"{where}.rules[{i}]", "a segment rule has no serve")
        check_rule(r, f"{where}.rules[{i}]", {}, (), in_segment=True)


def check_numbers(value, where):
    """No integer JavaScript cannot hold, no non-finite number, anywhere in a file."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_numbers(v, where)
    elif isinstance(value, list):
        for v in value:
            check_numbers(v, where)
    elif is_number(value):
        need(math.isfinite(value), where, f"{value!r} is not finite")
        need(not isinstance(value, int) or abs(value) <= 2**53, where, f"{value} is beyond 2^53")


# --- writing ----------------------------------------------------------------------------------------
def write(name, description, environment, flags, cases, segments=None, dangling=()):
    """`dangling` names the flags and segments that cases refer to on purpose without defining them."""
    segments_by_key = {}
    for s in segments or []:
        check_segment(s)
        need(s["key"] not in segments_by_key, name, f"segment {s['key']!r} twice")
        segments_by_key[s["key"]] = s
    flags_by_key = {}
    for f in flags:
        check_flag(f, flags_by_key, segments_by_key, dangling)
        need(f["key"] not in flags_by_key, name, f"flag {f['key']!r} twice")
        flags_by_key[f["key"]] = f
    env = {"flags": flags_by_key, "segments": segments_by_key}
    out = {"name": name, "description": description, "environment": environment, "flags": flags}
    if segments is not None:
        out["segments"] = segments
    out["cases"] = []
    for case_name, user, keys in cases:
        request = {"environment": environment, "user": user}
        if keys is not None:
            request["flags"] = keys
        out["cases"].append({"name": case_name, "request": request, "response": respond(env, request)})
    need(len({c["name"] for c in out["cases"]}) == len(out["cases"]), name, "two cases with one name")
    check_numbers(out, name)
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return out


def served(out):
    """{(flagKey, reason)} over every case of a written file, for the coverage checks."""
    return {(r["flagKey"], r["reason"]) for c in out["cases"] for r in c["response"]["results"]}


# --- self-checks of the parsers against facts from their specifications -----------------------------
# semver.org §11's example chain, each strictly below the next.
SEMVER_CHAIN = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]
for low, high in zip(SEMVER_CHAIN, SEMVER_CHAIN[1:]):
    assert semver_cmp(parse_semver(low), parse_semver(high)) == -1, (low, high)
    assert semver_cmp(parse_semver(high), parse_semver(low)) == 1, (low, high)
assert semver_cmp(parse_semver("1.0.0-alpha+001"), parse_semver("1.0.0-alpha")) == 0
for bad in ("v1.2.3", "1.2", "1.2.3.4", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3 ", "１.2.3"):
    assert parse_semver(bad) is None, bad
assert parse_rfc3339("1970-01-01T00:00:00Z") == 0
assert parse_rfc3339("2026-12-01T00:00:00Z") == 1796083200 * 10**9  # date -u -d 2026-12-01 +%s
assert parse_rfc3339("2026-12-01T01:00:00+01:00") == parse_rfc3339("2026-11-30T19:00:00-05:00")
for year in range(1, 10000, 7):  # datetime knows years 1..9999; year 0 is checked just below
    for month, day in ((1, 1), (2, 28), (3, 1), (12, 31)):
        assert days_from_civil(year, month, day) == (datetime.date(year, month, day).toordinal()
                                                     - datetime.date(1970, 1, 1).toordinal())
assert parse_rfc3339("2000-03-01T00:00:00Z") - parse_rfc3339("2000-02-28T00:00:00Z") == 2 * 86400 * 10**9
assert parse_rfc3339("0000-01-01T00:00:00Z") == -62167219200 * 10**9  # 719528 days before the epoch
assert parse_rfc3339("2026-12-01T00:00:00.5Z") == parse_rfc3339("2026-12-01T00:00:00.500000000Z")
for bad in ("2026-12-01T00:00:00", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-12-01T23:59:60Z",
            "2026-12-01T00:00:00.0000000000Z", "2026-12-01T00:00:00+24:00", "2026-12-01T00:00:00Z\n"):
    assert parse_rfc3339(bad) is None, bad

# The contract's known values.
assert murmur3("hello") == 613153351
assert murmur3("The quick brown fox jumps over the lazy dog") == 776992547
assert bucket("user-123", "new_checkout_flow") == 56
assert murmur3("checkout-v2/user-123") == 3688960842
assert split_point("checkout-v2", "user-123") == 60842
assert split_point("new_checkout_flow", "user-123") == 72699


# --- the contract's worked examples -------------------------------------------------------------
assert mmh3.hash(b"hello", 0, signed=False) == 613153351
assert mmh3.hash(b"The quick brown fox jumps over the lazy dog", 0, signed=False) == 776992547
assert bucket("user-123", "new_checkout_flow") == 56

write("contract-examples",
      "The contract's worked example: bucket(user-123, new_checkout_flow) = 56, so 57% includes the user "
      "and 56% does not.",
      "prod",
      [flag("new_checkout_flow", rollout=57, description="bucket 56 < 57"),
       flag("new_checkout_flow.at56", rollout=56)],
      [("user-123 is inside 57%", {"id": "user-123"}, ["new_checkout_flow"]),
       ("every flag for user-123", {"id": "user-123"}, None)])

write("contract-boundary",
      "bucket(user-123, new_checkout_flow) = 56 is not below 56: NO_MATCH at exactly 56%.",
      "staging",
      [flag("new_checkout_flow", rollout=56)],
      [("user-123 is outside 56%", {"id": "user-123"}, None),
       ("user-1 (bucket 36) is inside", {"id": "user-1"}, None),
       ("user-4 (bucket 97) is outside", {"id": "user-4"}, None)])

# --- operators ------------------------------------------------------------------------------------
operator_flags = [
    flag("country.eq", [cond("country", "eq", "DE")]),
    flag("country.neq", [cond("country", "neq", "DE")]),
    flag("email.in", [cond("email", "in", ["a@x.com", "b@x.com"])]),
    flag("country.not_in", [cond("country", "not_in", ["US", "CA"])]),
    flag("email.starts_with", [cond("email", "starts_with", "admin@")]),
    flag("email.ends_with", [cond("email", "ends_with", "@pennon.dev")]),
    flag("id.eq", [cond("id", "eq", "user-1")]),
    flag("age.eq.10", [cond("attributes.age", "eq", 10)]),
    flag("age.eq.10.0", [cond("attributes.age", "eq", 10.0)]),
    flag("age.eq.string10", [cond("attributes.age", "eq", "10")]),
    flag("age.neq.10", [cond("attributes.age", "neq", 10)]),
    flag("beta.eq.true", [cond("attributes.beta", "eq", True)]),
    flag("beta.eq.1", [cond("attributes.beta", "eq", 1)]),
    flag("org.tier.eq.gold", [cond("attributes.org.tier", "eq", "gold")]),
    flag("level.in.mixed", [cond("attributes.level", "in", [1, "2", True])]),
    flag("level.not_in.numbers", [cond("attributes.level", "not_in", [1, 2.5])]),
    flag("nick.eq.empty", [cond("attributes.nick", "eq", "")]),
    flag("nick.starts_with.empty", [cond("attributes.nick", "starts_with", "")]),
    flag("country.eq.unicode", [cond("country", "eq", "Österreich")]),
    flag("email.starts_with.unicode", [cond("email", "starts_with", "日本")]),
    flag("country.eq.case", [cond("country", "eq", "de")]),
    flag("neg.in", [cond("attributes.score", "in", [-1, -2.5, 0])]),
]
operator_users = [
    ("a full German admin", {"id": "user-1", "email": "admin@pennon.dev", "country": "DE",
                             "attributes": {"age": 10, "beta": True, "org": {"tier": "gold"}, "level": 1,
                                            "nick": "", "score": -1}}),
    ("an American with look-alike types", {"id": "user-2", "email": "a@x.com", "country": "US",
                                           "attributes": {"age": 10.0, "beta": "true", "org": {"tier": "silver"},
                                                          "level": "2", "nick": "n",
                                                          "score": -2.5}}),
    ("nothing but an id: neq and not_in fail closed", {"id": "user-3"}),
    ("nulls, lists and objects never match",
     {"id": "user-4", "email": None, "country": None,
      "attributes": {"age": None, "org": None, "level": [1], "beta": {"x": 1}, "nick": ["", ""], "score": [0]}}),
    ("the string \"10\" is not 10", {"id": "user-5", "attributes": {"age": "10", "level": 2.5,
                                                                 "org": {"tier": ["gold"]}, "beta": 1, "score": 0.0}}),
    ("non-ASCII text", {"id": "用户-7", "country": "Österreich", "email": "日本@例え.jp",
                        "attributes": {"level": True, "age": 10.5, "nick": "Zoë"}}),
    ("a Canadian with an object where a path expects more depth",
     {"id": "user-8", "country": "CA", "email": "b@x.com", "attributes": {"org": "gold", "age": 1e1}}),
    ("a lower-case country", {"id": "user-9", "country": "de", "email": "ADMIN@pennon.dev"}),
]
write("operators",
      "Every operator on every kind of field value: types compare strictly, numbers by value, strings "
      "case-sensitively; missing, null, list and object values make every condition false.",
      "prod", operator_flags,
      [(name, user, None) for name, user in operator_users])

# --- rules, groups, order, kill switch -----------------------------------------------------------
rule_flags = [
    flag("group.de_pro", [{"all": [cond("country", "eq", "DE"), cond("attributes.plan", "eq", "pro")]}]),
    flag("any.de_or_fr", [cond("country", "eq", "DE"), cond("country", "eq", "FR")]),
    flag("group.then.single", [{"all": [cond("country", "eq", "US"), cond("attributes.plan", "in", ["pro", "team"])]},
                               cond("email", "ends_with", "@pennon.dev")], rollout=100),
    flag("killed", [cond("country", "eq", "DE")], enabled=False, rollout=100),
    flag("killed.plain", enabled=False),
    flag("rollout.all", rollout=100),
    flag("rollout.none", rollout=0),
    flag("rule.beats.rollout", [cond("attributes.plan", "eq", "pro")], rollout=0),
    flag("group.neq.missing", [{"all": [cond("country", "eq", "DE"), cond("attributes.plan", "neq", "free")]}]),
]
rule_users = [
    ("German pro", {"id": "user-1", "country": "DE", "attributes": {"plan": "pro"}}),
    ("German free", {"id": "user-2", "country": "DE", "attributes": {"plan": "free"}}),
    ("French, no attributes", {"id": "user-3", "country": "FR"}),
    ("American team member", {"id": "user-4", "country": "US", "attributes": {"plan": "team"}}),
    ("staff anywhere", {"id": "user-5", "country": "JP", "email": "ops@pennon.dev"}),
    ("German without a plan", {"id": "alice", "country": "DE"}),
]
write("rules-and-groups",
      "Rules are alternatives checked in order; a group needs every condition; the kill switch beats "
      "rules and rollout; a rule match beats the rollout.",
      "dev", rule_flags,
      [(name, user, None) for name, user in rule_users])

# --- rollout -------------------------------------------------------------------------------------
rollout_flags = [flag("new_checkout_flow", rollout=50), flag("dark_mode", rollout=25),
                 flag("beta.search-v2", rollout=90), flag("tiny", rollout=1), flag("half_of_ids", rollout=50)]
rollout_ids = ["user-1", "user-2", "user-3", "user-4", "user-5", "alice", "bob", "carol", "dave", "Zoë",
               "用户-7", "a", "ab", "abc", "abcd", "abcde", "🚀-rocket", "x" * 200]
write("rollout",
      "Deterministic buckets: murmur3_x86_32(user.id ++ key, 0) % 100 < rolloutPercentage, over ids of "
      "every length (every murmur3 tail) and non-ASCII ids.",
      "prod", rollout_flags,
      [(f"id {i!r}"[:60], {"id": i}, None) for i in rollout_ids])

# --- the flags filter ----------------------------------------------------------------------------
filter_flags = [flag("b.flag", rollout=100), flag("a.flag", [cond("country", "eq", "DE")]),
                flag("c.flag", enabled=False), flag("A.upper", rollout=100)]
write("flags-filter",
      "`flags` names the keys to evaluate: results sorted by key (byte order), each key once, an unknown "
      "key FLAG_NOT_FOUND, an empty list no results.",
      "prod", filter_flags,
      [("all flags, sorted", {"id": "user-1", "country": "DE"}, None),
       ("only named keys, in sorted order", {"id": "user-1", "country": "DE"}, ["c.flag", "a.flag"]),
       ("unknown and duplicate keys", {"id": "user-1"}, ["zzz", "a.flag", "a.flag", "missing", "B.flag"]),
       ("a key that could never exist", {"id": "user-1"}, ["has space", "ünïcode"]),
       ("an empty list", {"id": "user-1"}, []),
       ("null is the same as absent", {"id": "user-2"}, None)])


# =====================================================================================================
# Version 2. Every file below writes its flags in full version-2 form (the origin's serialization),
# except where a case leaves fields out on purpose to test their defaults.
# =====================================================================================================
def ids_at(salt, points, prefix="user-"):
    """The first prefix+N (N = 0, 1, ...) whose split point under `salt` is each of `points`.

    Brute force, so a boundary case names a real id instead of trusting a made-up one."""
    wanted, found, n = set(points), {}, 0
    while wanted:
        candidate = f"{prefix}{n}"
        point = split_point(salt, candidate)
        if point in wanted:
            found[point] = candidate
            wanted.discard(point)
        n += 1
    return found


def covers(out, prefix, reasons):
    """Fails unless the flags starting with `prefix` gave every one of `reasons` in some case."""
    seen = {reason for key, reason in served(out) if key.startswith(prefix)}
    need(set(reasons) <= seen, out["name"], f"{prefix}*: {sorted(set(reasons) - seen)} never served")


EVERY_REASON = ("FLAG_DISABLED", "PREREQUISITE_FAILED", "RULE_MATCH", "ROLLOUT", "NO_MATCH")

# --- typed variants: every reason on every type ------------------------------------------------------
THEMES = {"dark": "dark", "light": "light", "system": "", "contrast": "Hoher Kontrast ✓"}
AMOUNTS = {"zero": 0, "tenth": 0.1, "hundred": 100, "neg": -2.5, "max": 2**53, "min": -(2**53), "tiny": 1e-7,
           "huge": 1.7976931348623157e308}
LAYOUTS = {
    "full": {"layout": {"columns": 3, "dense": True, "items": [1, "two", {"three": 3.5}, [], {}]},
             "label": "Ä-Ö ✓", "ratio": -0.25, "note": None},
    "empty": {},
    "deep": {"z": {"y": {"x": "deep"}}, "matrix": [[1, 2], [3]], "A": "upper case sorts first"},
}
variant_flags = [
    # A boolean version-2 flag with type, variants and offVariant left out: their defaults apply.
    v2flag("bool.defaults", rules=[rule(cond("country", "eq", "US"), "off")],
           fallthrough=split(("on", 50000), ("off", 50000)), omit=("type", "variants", "offVariant")),
    v2flag("bool.rollout", rules=[rule(cond("email", "ends_with", "@pennon.dev"), "on")], rollout=50,
           description="a version-1 flag in version-2 form: the rule writes no serve"),
    v2flag("bool.split", rules=[rule(cond("attributes.plan", "eq", "free"), "off")],
           fallthrough=split(("off", 50000), ("on", 50000))),
    v2flag("bool.variant", rules=[rule(cond("country", "eq", "US"), "off")], fallthrough="on",
           description="a variant fallthrough is NO_MATCH even when it serves on"),
    v2flag("bool.off", rules=[rule(cond("country", "eq", "DE"), "on")], rollout=100, enabled=False),
    v2flag("bool.gated", prerequisites=[prereq("bool.off", "on", "off")], rollout=100),
]
# Per type: the rule's variant, the pro rule's split, the fallthrough split, a fixed fallthrough and the
# only variant of a companyId split, chosen so that every variant of the type is served somewhere.
for kind, values, off, (rule_variant, pro, fall, fixed, company) in (
        ("string", THEMES, "light", ("dark", ("dark", "contrast"), ("light", "system"), "system", "contrast")),
        ("number", AMOUNTS, "zero", ("hundred", ("tenth", "neg"), ("min", "max"), "tiny", "huge")),
        ("object", LAYOUTS, "empty", ("full", ("deep", "full"), ("full", "deep"), "deep", "full"))):
    variant_flags += [
        v2flag(f"{kind}.main", kind, values, off,
               rules=[rule(cond("country", "eq", "DE"), rule_variant),
                      rule(cond("attributes.plan", "eq", "pro"), split((pro[0], 50000), (pro[1], 50000)))],
               fallthrough=split((fall[0], 50000), (fall[1], 50000))),
        v2flag(f"{kind}.fixed", kind, values, off, fallthrough=fixed),
        v2flag(f"{kind}.company", kind, values, off, description="companyId missing or not a string: offVariant",
               fallthrough=split((company, 100000), bucket_by="attributes.companyId")),
        v2flag(f"{kind}.off", kind, values, off, fallthrough=fixed, enabled=False),
        v2flag(f"{kind}.gated", kind, values, off, prerequisites=[prereq("bool.off", "off")], fallthrough=fixed),
    ]
variant_users = [
    ("German on the free plan", {"id": "user-1", "country": "DE", "email": "de@example.com",
                                 "attributes": {"plan": "free", "companyId": "acme"}}),
    ("French pro", {"id": "user-2", "country": "FR", "attributes": {"plan": "pro", "companyId": 42}}),
    ("another French pro", {"id": "user-9", "country": "FR", "attributes": {"plan": "pro"}}),
    ("American staff", {"id": "user-3", "country": "US", "email": "ops@pennon.dev"}),
    ("only an id (user-4)", {"id": "user-4"}),
    ("only an id (user-5)", {"id": "user-5"}),
    ("only an id (user-6)", {"id": "user-6"}),
    ("only an id (user-10)", {"id": "user-10"}),
]
variants_out = write(
    "v2-variants",
    "Typed flags (boolean, string, number, object): every reason on every type, the served variant's "
    "name and value, booleans with a split or a variant fallthrough and a rule serving off, a boolean "
    "flag leaving type, variants and offVariant to their defaults, and the flags filter.",
    "prod", variant_flags,
    [(name, user, None) for name, user in variant_users]
    + [("flags filter: typed flags and an unknown key", {"id": "user-1", "country": "DE"},
        ["string.main", "ghost", "number.fixed", "object.main", "bool.defaults"])])
for kind, values in (("string", THEMES), ("number", AMOUNTS), ("object", LAYOUTS)):
    covers(variants_out, kind + ".", EVERY_REASON)
    variants_seen = {r["variant"] for c in variants_out["cases"] for r in c["response"]["results"]
                     if r["flagKey"].startswith(kind + ".")}
    need(variants_seen == set(values), "v2-variants", f"{kind}: {sorted(set(values) - variants_seen)} never served")
covers(variants_out, "bool.", EVERY_REASON)
covers(variants_out, "ghost", ["FLAG_NOT_FOUND"])

# --- splits ---------------------------------------------------------------------------------------------
# The contract's known points for user-123: 60842 under salt "checkout-v2", 72699 under
# "new_checkout_flow". A point equal to a running sum belongs to the next variant.
AB = {"a": "a", "b": "b", "c": "c", "none": "none"}
split_flags = [
    v2flag("checkout", "string", {"control": "control", "treatment": "treatment"}, "control",
           fallthrough=split(("control", 60842), ("treatment", 39158), salt="checkout-v2"),
           description="user-123 sits at 60842, exactly the boundary: treatment"),
    v2flag("checkout.below", "string", {"control": "control", "treatment": "treatment"}, "control",
           fallthrough=split(("control", 60843), ("treatment", 39157), salt="checkout-v2"),
           description="user-123 sits at 60842, one below the boundary: control"),
    v2flag("new_checkout_flow", "string", AB, "none", fallthrough=split(("a", 72699), ("b", 27301)),
           description="the salt defaults to the key; user-123 at 72699 is on the boundary: b"),
    v2flag("new_checkout_flow.above", "string", AB, "none",
           fallthrough=split(("a", 72700), ("b", 27300), salt="new_checkout_flow"),
           description="the same salt given explicitly; the boundary one above user-123: a"),
    v2flag("thirds", "string", AB, "none", fallthrough=split(("a", 33333), ("b", 33333), ("c", 33334))),
    v2flag("zeros", "string", {"never": "never", "a": "a", "gap": "gap", "b": "b", "last": "last"}, "never",
           fallthrough=split(("never", 0), ("a", 50000), ("gap", 0), ("b", 50000), ("last", 0)),
           description="weight-0 entries never serve, not even at their own running sum"),
    v2flag("single", "string", {"all": "all", "other": "other"}, "other", fallthrough=split(("all", 100000))),
    v2flag("shared.one", "string", AB, "none", fallthrough=split(("a", 50000), ("b", 50000), salt="experiment-7")),
    v2flag("shared.two", "string", AB, "none", fallthrough=split(("a", 50000), ("b", 50000), salt="experiment-7"),
           description="same salt and weights as shared.one: every user gets the same letter from both"),
    v2flag("unicode.salt", "string", AB, "none", fallthrough=split(("a", 50000), ("b", 50000), salt="sälz-🧂")),
    v2flag("company", "string", AB, "none",
           fallthrough=split(("a", 50000), ("b", 50000), bucket_by="attributes.companyId")),
    v2flag("company.rule", "string", {"a": "a", "b": "b", "fixed": "fixed", "none": "none"}, "none",
           rules=[rule(cond("country", "eq", "DE"), split(("a", 50000), ("b", 50000),
                                                         bucket_by="attributes.companyId")),
                  rule(cond("country", "eq", "DE"), "fixed")],
           fallthrough="none",
           description="the first rule cannot place a German without a string companyId: the second serves"),
    v2flag("company.bool", fallthrough=split(("on", 50000), ("off", 50000), bucket_by="attributes.companyId")),
    v2flag("email.split", "string", AB, "none", fallthrough=split(("a", 50000), ("b", 50000), bucket_by="email")),
]
EXPECT = {}  # case name -> {flagKey: variant} the generator insists on, apart from the evaluation


def boundary_cases(key, salt, expected, prefix="user-", field=None):
    """One case per point in `expected` ({point: variant}), for the brute-forced id at that point."""
    found = ids_at(salt, expected, prefix)
    out = []
    for point in sorted(expected):
        value = found[point]
        user = {"id": value} if field is None else {"id": "user-1", "attributes": {field: value}}
        name = f"{key}: {value!r} at point {point} -> {expected[point]}"
        EXPECT[name] = {key: expected[point]}
        out.append((name, user, [key]))
    return out


split_cases = [
    ("user-123: the contract's known points", {"id": "user-123"},
     ["checkout", "checkout.below", "new_checkout_flow", "new_checkout_flow.above"]),
]
EXPECT["user-123: the contract's known points"] = {
    "checkout": "treatment", "checkout.below": "control", "new_checkout_flow": "b", "new_checkout_flow.above": "a"}
split_cases += boundary_cases("thirds", "thirds", {0: "a", 33332: "a", 33333: "b", 66665: "b", 66666: "c",
                                                   99999: "c"})
split_cases += boundary_cases("zeros", "zeros", {0: "a", 49999: "a", 50000: "b", 99999: "b"})
split_cases += boundary_cases("single", "single", {0: "all", 99999: "all"})
split_cases += boundary_cases("unicode.salt", "sälz-🧂", {49999: "a", 50000: "b"})
split_cases += boundary_cases("company", "company", {49999: "a", 50000: "b"}, prefix="company-",
                              field="companyId")
split_cases += [
    ("companyId \"acme\" (user-1)", {"id": "user-1", "country": "DE", "attributes": {"companyId": "acme"}}, None),
    ("companyId \"acme\" (user-2): the same answers as user-1 for the company splits",
     {"id": "user-2", "country": "DE", "attributes": {"companyId": "acme"}}, None),
    ("companyId \"\" is a string: placed", {"id": "user-3", "attributes": {"companyId": ""}}, None),
    ("companyId 42: a number is never placed", {"id": "user-4", "country": "DE", "attributes": {"companyId": 42}},
     None),
    ("companyId missing", {"id": "user-5", "country": "DE"}, None),
    ("companyId null", {"id": "user-6", "attributes": {"companyId": None}}, None),
    ("companyId true", {"id": "user-7", "attributes": {"companyId": True}}, None),
    ("companyId an object", {"id": "user-8", "attributes": {"companyId": {"id": "acme"}}}, None),
    ("companyId a list", {"id": "user-9", "attributes": {"companyId": ["acme"]}}, None),
    ("email null: email.split cannot place", {"id": "user-10", "email": None}, None),
    ("email given", {"id": "user-11", "email": "x@example.com"}, None),
    ("a non-ASCII id", {"id": "用户-7"}, None),
]
splits_out = write(
    "v2-splits",
    "Splits: point = murmur3_x86_32(salt + \"/\" + value, 0) % 100000, served by the first variant whose "
    "running weight sum exceeds the point. Ids found by brute force sit exactly on a running sum and one "
    "below it (the case name records the point); weight-0 entries, a single 100000 entry, salts given, "
    "defaulted and shared, bucketBy on attributes.companyId and email (a value that is not a string is "
    "never placed: a rule serving the split is skipped, a fallthrough split serves the offVariant).",
    "prod", split_flags, split_cases)
for case in splits_out["cases"]:
    got = {r["flagKey"]: r["variant"] for r in case["response"]["results"]}
    for key, variant in EXPECT.get(case["name"], {}).items():
        need(got[key] == variant, case["name"], f"{key} served {got[key]}, expected {variant}")
by_name = {c["name"]: {r["flagKey"]: r for r in c["response"]["results"]} for c in splits_out["cases"]}
same_company = ("companyId \"acme\" (user-1)",
                "companyId \"acme\" (user-2): the same answers as user-1 for the company splits")
for key in ("company", "company.bool", "company.rule"):
    need(by_name[same_company[0]][key] == by_name[same_company[1]][key], "v2-splits", f"{key} differs in one company")
need(by_name["companyId 42: a number is never placed"]["company.rule"]["variant"] == "fixed", "v2-splits",
     "an unplaceable rule split must fall through to the next rule")
need(by_name["companyId missing"]["company"]["reason"] == "NO_MATCH", "v2-splits", "unplaceable fallthrough")
need(by_name["companyId \"\" is a string: placed"]["company"]["reason"] == "ROLLOUT", "v2-splits", "\"\" is placed")

# --- segments -----------------------------------------------------------------------------------------
segments = [
    segment("beta-testers", include=["user-1", "user-2"], description="by id only"),
    segment("germans", rules=[cond("country", "eq", "DE")]),
    segment("german-pros", rules=[group(cond("country", "eq", "DE"), cond("attributes.plan", "eq", "pro"))]),
    segment("staff", include=["alice"],
            rules=[cond("email", "ends_with", "@pennon.dev"), cond("attributes.role", "in", ["admin", "ops"])]),
    segment("big-list", include=[f"member-{n:03d}" for n in range(300)] + ["mitglied-ä", "🚀"],
            description="a few hundred ids"),
    segment("nobody"),
]
segment_flags = [
    v2flag("beta", rules=[rule(seg("beta-testers"), "on")]),
    v2flag("not-german", rules=[rule(notseg("germans"), "on")],
           description="a user without a country is not a German, so notSegment matches"),
    v2flag("pro-theme", "string", THEMES, "light", rules=[rule(seg("german-pros"), "dark")], fallthrough="light"),
    v2flag("big", rules=[rule(seg("big-list"), "on")]),
    v2flag("staff-or-beta", "number", AMOUNTS, "zero",
           rules=[rule(seg("staff"), "hundred"), rule(seg("beta-testers"), "tenth")], fallthrough="zero"),
    v2flag("staff-not-german", rules=[rule(group(seg("staff"), notseg("germans")), "on")]),
    v2flag("nobody", rules=[rule(seg("nobody"), "on")]),
    v2flag("everybody", rules=[rule(notseg("nobody"), "on")]),
    v2flag("segment-or-rollout", rules=[rule(seg("germans"), "off")], rollout=100,
           description="a member is served off by the rule; everyone else gets the rollout's on"),
]
segment_users = [
    ("user-1: included in beta-testers", {"id": "user-1"}),
    ("German pro", {"id": "user-12", "country": "DE", "attributes": {"plan": "pro"}}),
    ("German free", {"id": "user-5", "country": "DE", "attributes": {"plan": "free"}}),
    ("missing every field the segment rules need", {"id": "user-3"}),
    ("country null", {"id": "user-4", "country": None}),
    ("member-000: first of the list", {"id": "member-000"}),
    ("member-299: last of the list", {"id": "member-299"}),
    ("member-300: just past the list", {"id": "member-300"}),
    ("Member-001: ids are case-sensitive", {"id": "Member-001"}),
    ("non-ASCII ids in the list", {"id": "mitglied-ä"}),
    ("alice: staff by include, German", {"id": "alice", "country": "DE"}),
    ("staff by email", {"id": "user-6", "email": "ops@pennon.dev", "country": "FR"}),
    ("staff by role", {"id": "user-7", "attributes": {"role": "ops"}}),
    ("a role that is a list is no role", {"id": "user-8", "attributes": {"role": ["ops"]}}),
]
segments_out = write(
    "v2-segments",
    "Segments: membership by include (a few hundred ids), by a rule, by an `all` group; `segment` and "
    "`notSegment` conditions in flag rules and groups; a user missing the fields a segment needs is not a "
    "member, so notSegment matches.",
    "prod", segment_flags,
    [(name, user, None) for name, user in segment_users]
    + [("flags filter: one segment flag", {"id": "user-12", "country": "DE", "attributes": {"plan": "pro"}},
        ["pro-theme", "beta"])],
    segments=segments)

# --- prerequisites --------------------------------------------------------------------------------------
# Listed before the flags that need them: the origin refuses a prerequisite on a flag it does not have.
prerequisite_flags = [
    v2flag("base.on", rollout=100),
    v2flag("base.de", rules=[rule(cond("country", "eq", "DE"), "on")]),
    v2flag("base.killed", rollout=100, enabled=False),
    v2flag("plan", "string", {"free": "free", "pro": "pro", "team": "team"}, "free",
           rules=[rule(cond("attributes.plan", "eq", "pro"), "pro"),
                  rule(cond("attributes.plan", "eq", "team"), "team")],
           fallthrough="free"),
    v2flag("coin", fallthrough=split(("on", 50000), ("off", 50000))),
    v2flag("needs.on", prerequisites=[prereq("base.on", "on")], rollout=100),
    v2flag("needs.de", prerequisites=[prereq("base.de", "on")], fallthrough="on"),
    v2flag("needs.not-de", prerequisites=[prereq("base.de", "off")], fallthrough="on",
           description="an enabled prerequisite serving off satisfies a list naming off"),
    v2flag("needs.killed", prerequisites=[prereq("base.killed", "on", "off")], fallthrough="on",
           description="a disabled prerequisite fails even with off in the list"),
    v2flag("needs.paid", "string", {"basic": "basic", "premium": "premium"}, "basic",
           prerequisites=[prereq("plan", "pro", "team")], fallthrough="premium"),
    v2flag("needs.coin", "number", {"zero": 0, "one": 1}, "zero", prerequisites=[prereq("coin", "on")],
           fallthrough="one"),
    v2flag("needs.both", prerequisites=[prereq("base.on", "on"), prereq("base.de", "on")],
           rules=[rule(cond("attributes.plan", "eq", "pro"), "on")], fallthrough="off"),
    v2flag("killed.and.gated", prerequisites=[prereq("base.killed", "on")], rollout=100, enabled=False,
           description="disabled is decided before prerequisites"),
    v2flag("chain-live.c", rollout=100),
    v2flag("chain-live.b", prerequisites=[prereq("chain-live.c", "on")], rollout=100),
    v2flag("chain-live.a", prerequisites=[prereq("chain-live.b", "on")], rollout=100),
    v2flag("chain-cut.c", rollout=100, enabled=False, description="chain-live with c turned off"),
    v2flag("chain-cut.b", prerequisites=[prereq("chain-cut.c", "on", "off")], rollout=100),
    v2flag("chain-cut.a", prerequisites=[prereq("chain-cut.b", "on", "off")], rollout=100),
    v2flag("inner", prerequisites=[prereq("base.killed", "off")], fallthrough="on"),
    v2flag("outer", prerequisites=[prereq("inner", "off")], fallthrough="on",
           description="inner fails its own prerequisites and serves off; that fails outer, off listed or not"),
    v2flag("object.gated", "object", LAYOUTS, "empty", prerequisites=[prereq("needs.de", "on")],
           rules=[rule(cond("attributes.plan", "eq", "pro"), "full")], fallthrough="deep"),
]
prerequisite_users = [
    ("German pro", {"id": "user-1", "country": "DE", "attributes": {"plan": "pro"}}),
    ("German free", {"id": "user-2", "country": "DE", "attributes": {"plan": "free"}}),
    ("French team", {"id": "user-3", "country": "FR", "attributes": {"plan": "team"}}),
    ("only an id (user-4)", {"id": "user-4"}),
    ("only an id (user-5)", {"id": "user-5"}),
]
prerequisites_out = write(
    "v2-prerequisites",
    "Prerequisites are evaluated for the same user from the whole set (also when the flags filter leaves "
    "them out): satisfied, a variant not in the list, a disabled prerequisite (off listed or not), a "
    "prerequisite that failed its own, a chain a->b->c with c on and with c off, several in order.",
    "prod", prerequisite_flags,
    [(name, user, None) for name, user in prerequisite_users]
    + [("flags filter: chain-live.a alone still evaluates b and c", {"id": "user-4"}, ["chain-live.a"]),
       ("flags filter: chain-cut.a and outer without their prerequisites", {"id": "user-4"}, ["chain-cut.a", "outer"]),
       ("flags filter: needs.de for a German", {"id": "user-2", "country": "DE"}, ["needs.de", "object.gated"])])
by_name = {c["name"]: {r["flagKey"]: r for r in c["response"]["results"]} for c in prerequisites_out["cases"]}
for key in ("chain-cut.a", "chain-cut.b", "needs.killed", "outer"):
    need(by_name["only an id (user-4)"][key]["reason"] == "PREREQUISITE_FAILED", "v2-prerequisites", key)
need(by_name["only an id (user-4)"]["chain-live.a"]["reason"] == "ROLLOUT", "v2-prerequisites", "chain-live.a")
covers(prerequisites_out, "needs.", ["PREREQUISITE_FAILED", "RULE_MATCH", "ROLLOUT", "NO_MATCH"])

# --- the new operators ------------------------------------------------------------------------------
text_flags = [
    v2flag("text.contains.ann", rules=[rule(cond("attributes.name", "contains", "ann"), "on")]),
    v2flag("text.contains.ANN", rules=[rule(cond("attributes.name", "contains", "ANN"), "on")]),
    v2flag("text.contains.empty", rules=[rule(cond("attributes.name", "contains", ""), "on")]),
    v2flag("text.contains.e-diaeresis", rules=[rule(cond("attributes.name", "contains", "ë"), "on")],
           description="U+00EB: not found in a decomposed e + U+0308"),
    v2flag("text.contains.e", rules=[rule(cond("attributes.name", "contains", "e"), "on")]),
    v2flag("text.contains.rocket", rules=[rule(cond("attributes.name", "contains", "🚀"), "on")]),
    v2flag("text.ends_with.combining", rules=[rule(cond("attributes.name", "ends_with", "\u0308"), "on")]),
    v2flag("text.neq.Joanna", rules=[rule(cond("attributes.name", "neq", "Joanna"), "on")]),
]
text_values = [("\"Joanna\"", "Joanna"), ("\"JOANNA\"", "JOANNA"), ("\"\"", ""), ("\"Zoë\" precomposed", "Zoë"),
               ("\"Zoe\\u0308\" decomposed", "Zoe\u0308"), ("\"launch 🚀 now\"", "launch 🚀 now"),
               ("the number 42", 42), ("true", True), ("null", None), ("a list [\"Joanna\"]", ["Joanna"]),
               ("an object", {"first": "Joanna"})]
number_flags = [
    v2flag("num.lt.10", rules=[rule(cond("attributes.n", "lt", 10), "on")]),
    v2flag("num.lte.10", rules=[rule(cond("attributes.n", "lte", 10), "on")]),
    v2flag("num.gt.10", rules=[rule(cond("attributes.n", "gt", 10), "on")]),
    v2flag("num.gte.10", rules=[rule(cond("attributes.n", "gte", 10), "on")]),
    v2flag("num.gte.10.0", rules=[rule(cond("attributes.n", "gte", 10.0), "on")]),
    v2flag("num.lt.-2.5", rules=[rule(cond("attributes.n", "lt", -2.5), "on")]),
    v2flag("num.lte.0", rules=[rule(cond("attributes.n", "lte", 0), "on")]),
    v2flag("num.gt.0.1", rules=[rule(cond("attributes.n", "gt", 0.1), "on")]),
    v2flag("num.gt.2pow53-1", rules=[rule(cond("attributes.n", "gt", 2**53 - 1), "on")]),
    v2flag("num.gte.2pow53.0", rules=[rule(cond("attributes.n", "gte", float(2**53)), "on")]),
    v2flag("num.lt.-2pow53-plus-1", rules=[rule(cond("attributes.n", "lt", -(2**53) + 1), "on")]),
    v2flag("num.neq.10", rules=[rule(cond("attributes.n", "neq", 10), "on")]),
]
number_values = [("10", 10), ("10.0", 10.0), ("the string \"10\"", "10"), ("9.999999999999998", 9.999999999999998),
                 ("10.000000000000002", 10.000000000000002), ("-2.5", -2.5), ("-2.6", -2.6), ("0.1", 0.1),
                 ("0.30000000000000004", 0.1 + 0.2), ("0", 0), ("-0.0", -0.0), ("2^53", 2**53),
                 ("2^53-1", 2**53 - 1), ("-2^53", -(2**53)), ("1e-300", 1e-300), ("true", True), ("false", False),
                 ("null", None), ("a list [10]", [10]), ("an object", {"n": 10})]
exists_flags = [
    v2flag("exists.x", rules=[rule(cond("attributes.x", "exists", True), "on")]),
    v2flag("exists.not.x", rules=[rule(cond("attributes.x", "exists", False), "on")]),
    v2flag("exists.x.y", rules=[rule(cond("attributes.x.y", "exists", True), "on")]),
    v2flag("exists.email", rules=[rule(cond("email", "exists", True), "on")]),
    v2flag("exists.not.email", rules=[rule(cond("email", "exists", False), "on")]),
    v2flag("exists.id", rules=[rule(cond("id", "exists", True), "on")]),
    v2flag("exists.not.id", rules=[rule(cond("id", "exists", False), "on")]),
]
exists_users = [
    ("x absent, no attributes, no email", {"id": "user-1"}),
    ("x null, email null", {"id": "user-2", "email": None, "attributes": {"x": None}}),
    ("x an empty object, email \"\"", {"id": "user-3", "email": "", "attributes": {"x": {}}}),
    ("x an empty list", {"id": "user-4", "attributes": {"x": []}}),
    ("x 0", {"id": "user-5", "attributes": {"x": 0}}),
    ("x \"\"", {"id": "user-6", "attributes": {"x": ""}}),
    ("x false", {"id": "user-7", "attributes": {"x": False}}),
    ("x.y null", {"id": "user-8", "attributes": {"x": {"y": None}}}),
    ("x.y 0", {"id": "user-9", "attributes": {"x": {"y": 0}}}),
    ("x a string, so x.y runs through a non-object", {"id": "user-10", "attributes": {"x": "y"}}),
    ("attributes null", {"id": "user-11", "attributes": None}),
]
# A field of the wrong type only needs the flags that would hold for any value of the right type
# (contains "" and neq for strings; lt and gte of one number, and neq, for numbers).
TEXT_DETECTORS = ["text.contains.empty", "text.neq.Joanna"]
NUMBER_DETECTORS = ["num.gte.10", "num.lt.10", "num.neq.10"]
operator_cases = []
for label, value in text_values:
    keys = [f["key"] for f in text_flags] if isinstance(value, str) else TEXT_DETECTORS
    operator_cases.append((f"name {label}", {"id": "user-1", "attributes": {"name": value}}, keys))
operator_cases.append(("name absent", {"id": "user-1"}, TEXT_DETECTORS))
for label, value in number_values:
    keys = [f["key"] for f in number_flags] if is_number(value) else NUMBER_DETECTORS
    operator_cases.append((f"n {label}", {"id": "user-1", "attributes": {"n": value}}, keys))
operator_cases.append(("n absent", {"id": "user-1", "attributes": {}}, NUMBER_DETECTORS))
for label, user in exists_users:
    operator_cases.append((f"exists: {label}", user, [f["key"] for f in exists_flags]))
write("v2-operators",
      "contains (case-sensitive, on Unicode scalar values, \"\" in every string), lt/lte/gt/gte (numbers only, "
      "by exact value: 10 = 10.0, \"10\" and true are not numbers, up to 2^53), exists (objects and lists are "
      "present, null is not), and every operator but exists failing closed on missing, null, list and object "
      "values. Each case evaluates the flags of one operator family (a field of the wrong type: only those "
      "that would hold for some value of the right type).",
      "prod", text_flags + number_flags + exists_flags, operator_cases)

# --- semver ----------------------------------------------------------------------------------------------
semver_flags = [
    v2flag("sv.eq.1.0.0", rules=[rule(cond("attributes.version", "semver_eq", "1.0.0"), "on")]),
    v2flag("sv.eq.1.0.0-plus-build", rules=[rule(cond("attributes.version", "semver_eq", "1.0.0+build.7"), "on")],
           description="build metadata in the value is ignored too"),
    v2flag("sv.lt.1.0.0", rules=[rule(cond("attributes.version", "semver_lt", "1.0.0"), "on")]),
    v2flag("sv.gt.1.0.0", rules=[rule(cond("attributes.version", "semver_gt", "1.0.0"), "on")]),
    v2flag("sv.gt.1.0.0-alpha", rules=[rule(cond("attributes.version", "semver_gt", "1.0.0-alpha"), "on")]),
    v2flag("sv.lt.1.0.0-beta.11", rules=[rule(cond("attributes.version", "semver_lt", "1.0.0-beta.11"), "on")]),
    v2flag("sv.eq.1.0.0-rc.1", rules=[rule(cond("attributes.version", "semver_eq", "1.0.0-rc.1"), "on")]),
    v2flag("sv.gt.2pow64-1", rules=[rule(cond("attributes.version", "semver_gt", "18446744073709551615.0.0"),
                                       "on")], description="numeric parts of any length compare as integers"),
    v2flag("sv.gt.long-pre-release", rules=[rule(cond("attributes.version", "semver_gt",
                                                      "1.0.0-99999999999999999999998"), "on")],
           description="a numeric pre-release identifier beyond 64 bits, compared as an integer"),
]
semver_values = [
    # valid, in ascending precedence (the semver.org §11 chain and more)
    "0.9.9", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-0a", "1.0.0-A", "1.0.0-Alpha", "1.0.0-alpha",
    "1.0.0-alpha-1", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
    "1.0.0-beta.11.0", "1.0.0-rc.1", "1.0.0-rc.1+build.5", "1.0.0", "1.0.0+build.7", "1.0.0+001",
    "1.0.0+20260101.sha-5114f85", "1.0.1", "1.10.0", "2.0.0", "9.0.0", "10.0.0", "1.0.0-99999999999999999999998",
    "1.0.0-99999999999999999999999", "18446744073709551615.0.0", "18446744073709551616.0.0",
    # invalid: the condition is false whatever the operator
    "v1.0.0", "V1.0.0", "1.0", "1.0.0.0", "01.0.0", "1.00.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0-a..b",
    "1.0.0+a..b", "1.0.0-a_b", "1.0.0-ä", " 1.0.0", "1.0.0 ", "1.0.0\n", "１.0.0", "", "-1.0.0", "1.0.0-rc.1+",
]
first_invalid = semver_values.index("v1.0.0")
for v in semver_values[:first_invalid]:
    assert parse_semver(v) is not None, v
for v in semver_values[first_invalid:]:
    assert parse_semver(v) is None, v
# A value that does not parse only needs eq, lt and gt against one version: one of the three would hold
# for any version that parsed.
SEMVER_DETECTORS = ["sv.eq.1.0.0", "sv.gt.1.0.0", "sv.lt.1.0.0"]
semver_cases = [(f"version {v!r}", {"id": "user-1", "attributes": {"version": v}},
                 None if i < first_invalid else SEMVER_DETECTORS) for i, v in enumerate(semver_values)]
semver_cases += [("version the number 1.0", {"id": "user-1", "attributes": {"version": 1.0}}, SEMVER_DETECTORS),
                 ("version null", {"id": "user-1", "attributes": {"version": None}}, SEMVER_DETECTORS),
                 ("version a list", {"id": "user-1", "attributes": {"version": ["1.0.0"]}}, SEMVER_DETECTORS),
                 ("version absent", {"id": "user-1"}, SEMVER_DETECTORS)]
write("v2-semver",
      "semver_eq/lt/gt: the field must parse as SemVer 2.0.0 (no leading v, no leading zeros, ASCII only); "
      "precedence per semver.org section 11 (build metadata ignored, pre-releases below their release, numeric "
      "identifiers below alphanumeric ones and compared as integers of any length, ASCII order otherwise, a "
      "longer list above its prefix). A field that does not parse makes every semver condition false (those "
      "cases evaluate eq, lt and gt of 1.0.0 only).",
      "prod", semver_flags, semver_cases)

# --- timestamps -------------------------------------------------------------------------------------------
# 2026-12-01T00:00:00Z written several ways; each flag's boundary instant is in its description.
timestamp_flags = [
    v2flag("ts.before", rules=[rule(cond("attributes.seen", "before", "2026-12-01T00:00:00Z"), "on")]),
    v2flag("ts.after", rules=[rule(cond("attributes.seen", "after", "2026-12-01T00:00:00Z"), "on")]),
    v2flag("ts.before.tokyo", rules=[rule(cond("attributes.seen", "before", "2026-12-01T09:00:00+09:00"), "on")],
           description="the same instant as ts.before"),
    v2flag("ts.after.lower", rules=[rule(cond("attributes.seen", "after", "2026-12-01t00:00:00z"), "on")],
           description="the same instant as ts.after"),
    v2flag("ts.after.1ns", rules=[rule(cond("attributes.seen", "after", "2026-12-01T00:00:00.000000001Z"), "on")]),
    v2flag("ts.before.1ns", rules=[rule(cond("attributes.seen", "before", "2026-11-30T19:00:00.000000001-05:00"),
                                        "on")], description="2026-12-01T00:00:00.000000001Z"),
    v2flag("ts.after.year0", rules=[rule(cond("attributes.seen", "after", "0000-01-01T00:00:00Z"), "on")],
           description="true for nearly every valid date-time: shows which fields parse"),
]
valid_timestamps = [
    "2026-12-01T00:00:00Z", "2026-12-01t00:00:00z", "2026-12-01T01:00:00+01:00", "2026-11-30T19:00:00-05:00",
    "2026-12-01T00:00:00-00:00", "2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00.000000000Z",
    "2026-12-01T00:00:00.0Z", "2026-11-30T23:59:59.999999999Z", "2026-12-01T00:00:00.000000001Z",
    "2026-12-01T00:00:00.000000002Z", "2026-12-01T00:00:00.1Z", "2026-12-01T00:00:00.123456789+00:01",
    "2026-12-01T00:30:00+01:00", "2026-11-30T23:30:00-01:00", "2026-12-01T23:59:59+23:59",
    "2026-11-30T00:00:01-23:59", "2024-02-29T12:00:00Z", "2000-02-29T00:00:00Z", "0000-02-29T00:00:00Z",
    "0000-01-01T00:00:00Z", "0000-01-01T00:00:00+01:00", "1969-12-31T23:59:59.999999999Z",
    "9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59-23:59",
]
invalid_timestamps = [
    "2026-12-01T00:00:00", "2026-12-01 00:00:00Z", "2026-12-01", "2026-12-01T00:00Z", "2026-12-01T00:00:00.Z",
    "2026-12-01T00:00:00.0000000001Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-12-00T00:00:00Z", "2026-12-01T24:00:00Z",
    "2026-12-01T23:60:00Z", "2026-12-31T23:59:60Z", "2026-12-01T00:00:00+24:00", "2026-12-01T00:00:00+01:60",
    "2026-12-01T00:00:00+0100", "2026-12-01T00:00:00+01", "2026-12-01T00:00:00 Z", "2026-12-01T00:00:00UTC",
    "2026-12-01T00:00:00,5Z", "+2026-12-01T00:00:00Z", "12026-12-01T00:00:00Z", "26-12-01T00:00:00Z",
    "2026-1-01T00:00:00Z", "２026-12-01T00:00:00Z", "2026-12-01T00:00:00Z\n", " 2026-12-01T00:00:00Z",
    "2026-12-01X00:00:00Z", "",
]
for t in valid_timestamps:
    assert parse_rfc3339(t) is not None, t
for t in invalid_timestamps:
    assert parse_rfc3339(t) is None, t
# A value that does not parse only needs before, after and after-year-0: a parsed one makes one true.
TIMESTAMP_DETECTORS = ["ts.after", "ts.after.year0", "ts.before"]
timestamp_cases = [(f"seen {t!r}", {"id": "user-1", "attributes": {"seen": t}}, None) for t in valid_timestamps]
timestamp_cases += [(f"seen {t!r}", {"id": "user-1", "attributes": {"seen": t}}, TIMESTAMP_DETECTORS)
                    for t in invalid_timestamps]
timestamp_cases += [("seen the number 1796083200", {"id": "user-1", "attributes": {"seen": 1796083200}},
                     TIMESTAMP_DETECTORS),
                    ("seen null", {"id": "user-1", "attributes": {"seen": None}}, TIMESTAMP_DETECTORS),
                    ("seen an object", {"id": "user-1", "attributes": {"seen": {"at": "2026-12-01T00:00:00Z"}}},
                     TIMESTAMP_DETECTORS),
                    ("seen absent", {"id": "user-1"}, TIMESTAMP_DETECTORS)]
timestamps_out = write(
    "v2-timestamps",
    "before/after: the field must parse as an RFC 3339 date-time (T or t, Z or z or +-hh:mm, 1 to 9 "
    "fractional digits, years 0000-9999, Gregorian leap years, no leap second, offsets up to 23:59) and is "
    "compared as an instant with nanosecond precision: strictly earlier / strictly later, so an equal "
    "instant written any other way is neither. A field that does not parse makes both false (those cases "
    "evaluate ts.before, ts.after and ts.after.year0 only).",
    "prod", timestamp_flags, timestamp_cases)
for case in timestamps_out["cases"]:
    results = {r["flagKey"]: r["enabled"] for r in case["response"]["results"]}
    if "ts.before.tokyo" in results:
        need(results["ts.before"] == results["ts.before.tokyo"], case["name"], "tokyo is the same instant")
        need(results["ts.after"] == results["ts.after.lower"], case["name"], "lower case is the same instant")
    else:
        need(not any(results.values()), case["name"], "a value that does not parse matched")

# --- references the origin would refuse ---------------------------------------------------------------
dangling_flags = [
    v2flag("ghost.prerequisite", prerequisites=[prereq("ghost", "on", "off")], fallthrough="on"),
    v2flag("ghost.prerequisite.typed", "string", THEMES, "light", prerequisites=[prereq("ghost", "x")],
           fallthrough="dark"),
    v2flag("ghost.segment", rules=[rule(seg("ghost"), "on")]),
    v2flag("ghost.notsegment", rules=[rule(notseg("ghost"), "on")]),
    v2flag("ghost.group", rules=[rule(group(notseg("ghost"), cond("country", "eq", "DE")), "on")]),
    v2flag("ghost.or.real", "string", THEMES, "light",
           rules=[rule(seg("ghost"), "dark"), rule(seg("real"), "contrast")],
           fallthrough="system"),
    v2flag("needs.ghost.prerequisite", prerequisites=[prereq("ghost.prerequisite", "off")], rollout=100,
           description="its prerequisite failed on a missing flag: this one fails too"),
]
write("v2-dangling",
      "Documents naming a flag or a segment that is not in the set. The origin refuses them when they are "
      "written, but the npm package and the edge worker may be handed such a set: a missing prerequisite "
      "fails (offVariant, PREREQUISITE_FAILED); an unknown segment has no members (segment false, notSegment "
      "true).",
      "prod", dangling_flags,
      [("user-1: a member of the real segment", {"id": "user-1", "country": "DE"}, None),
       ("user-2: a member of no segment", {"id": "user-2", "country": "FR"}, None)],
      segments=[segment("real", include=["user-1"])], dangling=("ghost",))

# --- the worked examples of docs/evaluation.md ---------------------------------------------------------
# The page shows these very documents and answers; this file is how every runtime checks them.
beta_customers = segment(
    "beta-customers",
    include=["user-42", "user-77"],
    rules=[cond("attributes.plan", "eq", "enterprise"),
           group(cond("email", "ends_with", "@pennon.dev"), cond("attributes.appVersion", "semver_gt", "2.0.0"))],
    description="Customers who asked to try new things first")
checkout_layout = v2flag(
    "checkout-layout", "string",
    {"control": "classic", "single-page": "one-page", "wizard": "steps"}, "control",
    fallthrough=split(("control", 33333), ("single-page", 33333), ("wizard", 33334)),
    description="A/B/C test of the checkout")
search_config = v2flag(
    "search-config", "object",
    {"standard": {"pageSize": 20, "fuzzy": False},
     "tuned": {"pageSize": 50, "fuzzy": True, "boost": {"title": 2.5, "body": 1}}}, "standard",
    rules=[rule(seg("beta-customers"), "tuned")],
    fallthrough="standard",
    description="Search settings; beta customers get the tuned ones")
checkout_tracking = v2flag(
    "checkout-tracking",
    prerequisites=[prereq("checkout-layout", "single-page", "wizard")],
    rollout=100,
    description="Only where a new checkout layout runs")
invoice_export = v2flag(
    "invoice-export",
    fallthrough=split(("on", 25000), ("off", 75000), bucket_by="attributes.companyId", salt="invoice-export-2026"),
    description="A quarter of companies; every user of one company gets the same answer")
docs_users = [
    ("user-1 of contoso (free plan)", {"id": "user-1", "attributes": {"companyId": "contoso", "plan": "free"}}),
    ("user-2 of contoso (free plan)", {"id": "user-2", "attributes": {"companyId": "contoso", "plan": "free"}}),
    ("user-3 of fabrikam (enterprise)", {"id": "user-3", "attributes": {"companyId": "fabrikam", "plan": "enterprise"}}),
    ("user-14 of fabrikam, in the control group", {"id": "user-14", "attributes": {"companyId": "fabrikam"}}),
    ("user-42, listed in the segment, no company", {"id": "user-42"}),
    ("staff on app 2.1.0", {"id": "user-9", "email": "ana@pennon.dev",
                            "attributes": {"companyId": "aperture", "appVersion": "2.1.0"}}),
    ("staff on app 2.0.0-rc.1", {"id": "user-10", "email": "bo@pennon.dev",
                                 "attributes": {"companyId": "aperture", "appVersion": "2.0.0-rc.1"}}),
]
write("docs-examples",
                 "The worked examples of docs/evaluation.md: an A/B/C string flag, a JSON config flag for a "
                 "segment of beta customers, a prerequisite, and a company-level rollout.",
                 "prod", [checkout_layout, checkout_tracking, invoice_export, search_config],
                 [(name, user, None) for name, user in docs_users],
                 segments=[beta_customers])
