#!/usr/bin/env python3
"""Writes the golden vectors in this folder from the cases below.

The expected answers come from a second, independent implementation of the evaluation that docs/api.md
defines, written here in Python with the `mmh3` package as the hash: the Rust evaluator, the origin,
the edge worker and the npm package must all agree with it. Run `pip install mmh3 && python3
tests/vectors/generate.py` after changing a case, and review the diff of the JSON by hand.

Integers beyond 2^53 stay out of these files: JavaScript cannot hold them, so the npm package could not
agree; the Rust tests cover them natively.
"""
import json
import math
import os

import mmh3

HERE = os.path.dirname(os.path.abspath(__file__))


def bucket(user_id, key):
    return mmh3.hash((user_id + key).encode("utf-8"), 0, signed=False) % 100


def lookup(user, field):
    if field in ("id", "email", "country"):
        value = user.get(field)
    else:
        value = user.get("attributes")
        for part in field[len("attributes."):].split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
    if value is None or isinstance(value, (dict, list)):
        return None
    return value


def equals(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b  # exact for ints; 10 == 10.0
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def holds(cond, user):
    value = lookup(user, cond["field"])
    if value is None:
        return False
    op, expected = cond["operator"], cond["value"]
    if op == "eq":
        return equals(value, expected)
    if op == "neq":
        return not equals(value, expected)
    if op == "in":
        return any(equals(value, e) for e in expected)
    if op == "not_in":
        return not any(equals(value, e) for e in expected)
    if op == "starts_with":
        return isinstance(value, str) and value.startswith(expected)
    if op == "ends_with":
        return isinstance(value, str) and value.endswith(expected)
    raise ValueError(op)


def evaluate(flag, user):
    if not flag.get("enabled", False):
        return False, "FLAG_DISABLED"
    for rule in flag.get("rules", []):
        conds = rule["all"] if "all" in rule else [rule]
        if all(holds(c, user) for c in conds):
            return True, "RULE_MATCH"
    if bucket(user["id"], flag["key"]) < flag.get("rolloutPercentage", 0):
        return True, "ROLLOUT"
    return False, "NO_MATCH"


def utf8_sorted(keys):
    return sorted(set(keys), key=lambda k: k.encode("utf-8"))


def respond(flags, request):
    by_key = {f["key"]: f for f in flags}
    keys = request["flags"] if request.get("flags") is not None else list(by_key)
    results = []
    for key in utf8_sorted(keys):
        if key in by_key:
            enabled, reason = evaluate(by_key[key], request["user"])
        else:
            enabled, reason = False, "FLAG_NOT_FOUND"
        results.append({"flagKey": key, "enabled": enabled, "reason": reason})
    return {"results": results}


def cond(field, op, value):
    return {"field": field, "operator": op, "value": value}


def flag(key, rules=(), enabled=True, rollout=0, description=""):
    f = {"key": key, "enabled": enabled, "rolloutPercentage": rollout, "rules": list(rules)}
    if description:
        f["description"] = description
    return f


def write(name, description, environment, flags, cases):
    out = {"name": name, "description": description, "environment": environment, "flags": flags, "cases": []}
    for case_name, user, keys in cases:
        request = {"environment": environment, "user": user}
        if keys is not None:
            request["flags"] = keys
        out["cases"].append({"name": case_name, "request": request, "response": respond(flags, request)})
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


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
