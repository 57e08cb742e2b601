"""Validates every resource the FHIR facade serves for the demo people with an independent
FHIR library (fhir.resources, its R4B models: pydantic models generated from the FHIR
specification), then checks the UK Core rules the service promises on top: each resource's
meta.profile names its UK Core profile; NHS numbers are under https://fhir.nhs.uk/Id/nhs-number
with a valid check digit; ODS codes under https://fhir.nhs.uk/Id/ods-organization-code; SNOMED
CT codes are well-formed concept ids (Verhoeff check digit, concept partition); every reference
to a Patient or plan resource resolves; every extension this service uses is served as a
StructureDefinition.

    python fhir_validate.py BASE_URL CLINICIAN_TOKEN

Reads each demo person's $everything, then reads every resource again by id, runs every
search type by patient, and validates CapabilityStatement, StructureDefinitions and errors
(OperationOutcome). Exits 1 on any error, printing each."""

import importlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import fhir.resources.R4B  # noqa: F401  (the models are imported per type below)

BASE, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]
NHS = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
errors = []
validated = {}


def get(path, token=TOKEN, accept="application/fhir+json"):
    req = urllib.request.Request(BASE + path, headers={"Accept": accept})
    if token:
        req.add_header("Authorization", "Bearer " + token)
        req.add_header("X-Purpose-Of-Use", "direct-care")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("Content-Type", ""), json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), json.loads(e.read() or b"null")


def model(resource_type):
    module = importlib.import_module("fhir.resources.R4B." + resource_type.lower())
    return getattr(module, resource_type)


def validate(resource, where):
    rt = resource.get("resourceType")
    try:
        model(rt).model_validate(resource)
    except Exception as e:  # pydantic's ValidationError, or an unknown type
        errors.append(f"{where}: {rt}/{resource.get('id')} does not validate: {e}")
        return
    validated[rt] = validated.get(rt, 0) + 1


def verhoeff(number):
    d = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],
         [4,0,1,2,3,9,5,6,7,8],[5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],
         [8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
    p = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],
         [9,4,5,3,1,2,6,8,7,0],[4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = d[c][p[i % 8][int(ch)]]
    return c == 0


def nhs_ok(n):
    if not re.fullmatch(r"\d{10}", n or ""):
        return False
    total = sum(int(n[i]) * (10 - i) for i in range(9))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(n[9])


def walk(value, path=""):
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


extension_urls = set()


def uk_core(resource, where, known):
    rt, rid = resource["resourceType"], resource.get("id")
    name = f"{where}: {rt}/{rid}"
    if rt not in ("Bundle", "CapabilityStatement", "OperationOutcome", "StructureDefinition"):
        if resource.get("meta", {}).get("profile") != [UKCORE + rt]:
            errors.append(f"{name}: meta.profile is {resource.get('meta', {}).get('profile')}, not [{UKCORE + rt}]")
    for path, obj in walk(resource):
        system, value = obj.get("system"), obj.get("value")
        if system == NHS and not nhs_ok(value):
            errors.append(f"{name}{path}: {value!r} is not a valid NHS number")
        if system == ODS and not re.fullmatch(r"[A-Z0-9]{3,10}", value or ""):
            errors.append(f"{name}{path}: {value!r} is not an ODS code")
        if system == SNOMED:
            code = obj.get("code", "")
            if not (re.fullmatch(r"[1-9]\d{5,17}", code) and verhoeff(code) and code[-3:-1] in ("00", "10")):
                errors.append(f"{name}{path}: {code!r} is not a SNOMED CT concept id")
        if "identifier" in path.split(".")[-1:] and isinstance(obj, dict) and obj.get("system") not in (None, NHS, ODS, "urn:ietf:rfc:3986"):
            errors.append(f"{name}{path}: unexpected identifier system {obj.get('system')}")
        ref = obj.get("reference")
        if isinstance(ref, str) and not ref.startswith("#"):
            if ref not in known:
                errors.append(f"{name}{path}: reference {ref} does not resolve in the person's bundle")
        url = obj.get("url")
        if isinstance(url, str) and url.startswith("https://universal-care-plan.london/"):
            extension_urls.add(url)
    for label in resource.get("meta", {}).get("security", []):
        if (label.get("system"), label.get("code")) != ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"):
            errors.append(f"{name}: meta.security {label} is not v3-Confidentiality R")
        else:
            restricted.add(f"{rt}/{rid}")
    if rt == "Patient":
        ids = [i for i in resource.get("identifier", []) if i.get("system") == NHS]
        if len(ids) != 1 or ids[0]["value"] != rid:
            errors.append(f"{name}: a Patient carries its NHS number as identifier and id")


# fhir.resources checks structure, cardinality and datatypes, but not required code bindings;
# these are the FHIR R4 required value sets of the coded elements the facade fills in.
REQUIRED = {
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Consent", "status"): {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    ("MedicationStatement", "status"): {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
}
# What each reference element may point at (R4), for the references the facade writes.
TARGETS = {"subject": {"Patient"}, "patient": {"Patient"}, "author": {"Patient", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson", "Device", "CareTeam"},
           "recorder": {"Patient", "Practitioner", "PractitionerRole", "RelatedPerson"}, "informationSource": {"Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Organization"},
           "performer": {"Organization", "Patient", "Practitioner", "RelatedPerson", "PractitionerRole", "CareTeam"}, "supportingInfo": None, "valueReference": None}


def bindings(resource, name):
    rt = resource["resourceType"]
    for (t, field), allowed in REQUIRED.items():
        if t == rt and field in resource and resource[field] not in allowed:
            errors.append(f"{name}: {field} {resource[field]!r} is not in FHIR's required value set")
    for path, obj in walk(resource):
        key = path.rsplit(".", 1)[-1].split("[")[0]
        if "system" in obj and "value" in obj and ".telecom" in path and obj["system"] not in {"phone", "fax", "email", "pager", "url", "sms", "other"}:
            errors.append(f"{name}{path}: telecom system {obj['system']!r}")
        if "type" in obj and "provision" in key and obj["type"] not in {"deny", "permit"}:
            errors.append(f"{name}{path}: provision type {obj['type']!r}")
        if "detail" in obj and isinstance(obj["detail"], dict) and "status" in obj["detail"] and obj["detail"]["status"] not in {
                "not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped", "unknown", "entered-in-error"}:
            errors.append(f"{name}{path}: activity status {obj['detail']['status']!r}")
        for field, allowed in TARGETS.items():
            ref = obj.get(field)
            refs = ref if isinstance(ref, list) else [ref]
            for r in refs:
                if isinstance(r, dict) and allowed is not None:
                    target = (r.get("reference") or "").split("/")[0] or r.get("type")
                    if target and target not in allowed:
                        errors.append(f"{name}{path}.{field}: may not refer to a {target}")


def check_status(status, ctype, body, want, where):
    if status != want:
        errors.append(f"{where}: status {status}, expected {want}: {json.dumps(body)[:300]}")
        return False
    if not ctype.startswith("application/fhir+json"):
        errors.append(f"{where}: content type {ctype!r}")
    return True


# The CapabilityStatement, unauthenticated.
status, ctype, cap = get("/fhir/R4/metadata", token=None)
if check_status(status, ctype, cap, 200, "metadata"):
    validate(cap, "metadata")

# An error is an OperationOutcome: a demographic search with an empty date is refused.
status, ctype, body = get("/fhir/R4/Patient?family=Okafor&birthdate=")
if check_status(status, ctype, body, 400, "Patient?birthdate="):
    validate(body, "error")

people = set()
# Every demo person, numbered as the demo seeder numbers them (src/seed.rs, demo_nhs_number):
# from 999 000 000 in steps of 13, the first valid number at or after each stem.
for i in range(40):
    stem = 999_000_000 + i * 13
    while True:
        digits = str(stem)
        total = sum(int(digits[j]) * (10 - j) for j in range(9))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            people.add(digits + str(check))
            break
        stem += 1

seen_people = 0
restricted = set()
for nhs in sorted(people):
    status, ctype, bundle = get(f"/fhir/R4/Patient/{nhs}/$everything")
    if status == 404:
        continue
    if not check_status(status, ctype, bundle, 200, f"$everything {nhs}"):
        continue
    seen_people += 1
    validate(bundle, f"$everything {nhs}")
    resources = [e["resource"] for e in bundle.get("entry", [])]
    known = {f"{r['resourceType']}/{r['id']}" for r in resources}
    for r in resources:
        validate(r, f"$everything {nhs}")
        uk_core(r, f"$everything {nhs}", known)
        bindings(r, f"$everything {nhs}: {r['resourceType']}/{r['id']}")
        # Read by id answers the same resource.
        status, ctype, again = get(f"/fhir/R4/{r['resourceType']}/{r['id']}")
        if check_status(status, ctype, again, 200, f"read {r['resourceType']}/{r['id']}") and again != r:
            if r["resourceType"] != "Patient":  # the Patient comes from the current plan either way
                errors.append(f"read {r['resourceType']}/{r['id']} differs from the bundle's copy")
    # Every search by patient returns exactly the bundle's resources of that type.
    for rt in ["CarePlan", "Flag", "Consent", "Condition", "AllergyIntolerance", "MedicationStatement",
               "RelatedPerson", "PractitionerRole", "Organization", "DocumentReference"]:
        param = "subject" if rt == "DocumentReference" else "patient"
        status, ctype, found = get(f"/fhir/R4/{rt}?{param}=Patient/{nhs}")
        if not check_status(status, ctype, found, 200, f"{rt}?{param}={nhs}"):
            continue
        validate(found, f"{rt} search")
        got = sorted(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in found.get("entry", []))
        want = sorted(k for k in known if k.startswith(rt + "/"))
        if got != want:
            errors.append(f"{rt}?{param}={nhs}: {got} != the bundle's {want}")
    # Each CarePlan at each of its versions.
    for r in resources:
        if r["resourceType"] == "CarePlan":
            for v in range(1, int(r["meta"]["versionId"]) + 1):
                status, ctype, old = get(f"/fhir/R4/CarePlan/{r['id']}/_history/{v}")
                if check_status(status, ctype, old, 200, f"CarePlan/{r['id']}/_history/{v}"):
                    validate(old, "history")
                    if old["meta"]["versionId"] != str(v):
                        errors.append(f"CarePlan/{r['id']}/_history/{v} says version {old['meta']['versionId']}")

# Every extension used is served as a StructureDefinition, and they validate.
status, ctype, sds = get("/fhir/R4/StructureDefinition")
served = set()
if check_status(status, ctype, sds, 200, "StructureDefinition"):
    for e in sds.get("entry", []):
        validate(e["resource"], "StructureDefinition")
        served.add(e["resource"]["url"])
for url in sorted(extension_urls - served):
    errors.append(f"extension {url} is used but not served")

# Errors are OperationOutcomes.
for path, want in [("/fhir/R4/Patient/9434765918", 404), ("/fhir/R4/Observation?patient=9434765919", 404),
                   ("/fhir/R4/Flag?category=x", 400), ("/fhir/R4/metadata?_format=xml", 406)]:
    status, ctype, body = get(path)
    if check_status(status, ctype, body, want, path):
        validate(body, path)
status, ctype, body = get("/fhir/R4/Patient/9990000018", token="not-a-token")
if check_status(status, ctype, body, 401, "no valid token"):
    validate(body, "401")

# The demo day marks one person's record sensitive: their Patient and CarePlan are labelled.
if not any(r.startswith("Patient/") for r in restricted) or not any(r.startswith("CarePlan/") for r in restricted):
    errors.append(f"no restricted (sensitive) Patient and CarePlan among the demo's: {sorted(restricted)}")
if seen_people < 10:
    errors.append(f"only {seen_people} demo people were found; expected the seeded ones")
total = sum(validated.values())
print(f"fhir-validate: {seen_people} people, {total} resources validated with fhir.resources (R4B): "
      + ", ".join(f"{k} {v}" for k, v in sorted(validated.items())))
print(f"fhir-validate: {len(extension_urls)} extensions used, {len(served)} served; {len(errors)} errors")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
