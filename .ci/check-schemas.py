#!/usr/bin/env python3
"""Checks the record examples against the published JSON Schemas.

Every file in schemas/examples/valid must pass and every file in schemas/examples/invalid must
fail; the schema is chosen by the file name (message-, status-, inbound-, device- or claim-*.json). Two message rules
that JSON Schema cannot state (delay.minSeconds <= delay.maxSeconds, expiresAt after scheduledAt)
are checked here the same way BroadcastMessage.validate() checks them. Each invalid example must
also be listed in schemas/examples/invalid-fields.json, the field the Swift tests expect named.

Needs: pip install jsonschema rfc3339-validator   (without the latter, date-time is not checked)
"""
import json
import re
import sys
from datetime import datetime
from pathlib import Path

try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:
    sys.exit("check-schemas: jsonschema is missing: pip install jsonschema rfc3339-validator")

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLES = SCHEMAS / "examples"
KINDS = {
    "message": "broadcast.message.v1", "status": "broadcast.status.v1", "inbound": "broadcast.inbound.v1",
    "device": "broadcast.device.v1", "claim": "broadcast.recipient-claim.v1",
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def timestamp(text):
    # The schema's date-time format has already vouched for the syntax.
    return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))


def schema_issues(validator, record):
    """(field path, message) for each schema error; a missing member is named by its own path."""
    issues = []
    for error in validator.iter_errors(record):
        path = [str(p) for p in error.absolute_path]
        missing = re.match(r"^'([^']+)' is a required property", error.message)
        if error.validator == "required" and missing:
            path.append(missing.group(1))
        issues.append((".".join(path) or "(record)", error.message[:100]))
    return issues


def cross_field_issues(kind, record):
    """Rules beyond JSON Schema, as BroadcastMessage.validate() and DeviceStateRecord.validate() apply them."""
    if kind == "device" and isinstance(record, dict):
        return device_minutes_issues(record.get("sendMinutes"))
    if kind != "message" or not isinstance(record, dict):
        return []
    issues = []
    delay = record.get("delay")
    if isinstance(delay, dict):
        low, high = delay.get("minSeconds"), delay.get("maxSeconds")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
            issues.append(("delay", "minSeconds must not exceed maxSeconds"))
    scheduled, expires = record.get("scheduledAt"), record.get("expiresAt")
    if isinstance(scheduled, str) and isinstance(expires, str):
        try:
            if timestamp(expires) <= timestamp(scheduled):
                issues.append(("expiresAt", "must be after scheduledAt"))
        except ValueError:
            pass  # a bad timestamp is already a schema error
    return issues


def device_minutes_issues(minutes):
    """sendMinutes ascending, unique, and spanning less than 26 hours."""
    if not isinstance(minutes, list):
        return []
    keys = [m[0] for m in minutes if isinstance(m, list) and m and isinstance(m[0], int)]
    if any(a >= b for a, b in zip(keys, keys[1:])):
        return [("sendMinutes", "minutes must be ascending and unique")]
    if keys and keys[-1] - keys[0] >= 1560:
        return [("sendMinutes", "spans more than 1560 minutes")]
    return []


def main():
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        sys.exit("check-schemas: date-time cannot be checked: pip install rfc3339-validator")
    validators = {}
    for kind, name in KINDS.items():
        schema = load(SCHEMAS / f"{name}.schema.json")
        Draft202012Validator.check_schema(schema)
        validators[kind] = Draft202012Validator(schema, format_checker=checker)

    expected_fields = load(EXAMPLES / "invalid-fields.json")
    passed = failed = 0

    def report(ok, label, detail):
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label}: {detail}")

    for folder in ("valid", "invalid"):
        files = sorted((EXAMPLES / folder).glob("*.json"))
        if not files:
            report(False, f"{folder}/", "no examples found")
        for path in files:
            label = f"{folder}/{path.name}"
            kind = path.name.split("-", 1)[0]
            if kind not in validators:
                report(False, label, "name must start with message-, status-, inbound-, device- or claim-")
                continue
            record = load(path)
            issues = schema_issues(validators[kind], record) + cross_field_issues(kind, record)
            text = "; ".join(f"{field}: {message}" for field, message in issues)
            expected = expected_fields.get(path.name)
            if folder == "valid":
                report(not issues, label, text or "valid")
            elif expected is None:
                report(False, label, "not listed in invalid-fields.json")
            elif not issues:
                report(False, label, "accepted but must be rejected")
            else:
                # The schema must object to the same field the Swift validator names.
                named = expected in {field for field, _ in issues}
                report(named, label, f"rejected ({text})" if named else f"rejected, but not for {expected} ({text})")

    for name in sorted(set(expected_fields) - {p.name for p in (EXAMPLES / "invalid").glob("*.json")}):
        report(False, f"invalid-fields.json", f"lists {name}, which does not exist")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
