#!/usr/bin/env python3
"""Writes the framework files and crosswalks of OSPS Baseline, NIST SP 800-53 Rev. 5, PCI DSS v4.0.1, the CISA
attestation form, FedRAMP 20x KSIs, the EU CRA and the SLSA source track from the reference data
(`../shared/reference/data/*.json`), and adds the decided mappings to the controls' `mappings`.

Run from the repository root: `python3 tools/frameworks_from_reference.py [REFERENCE_DATA_DIR]`. It rewrites the
framework and crosswalk files whole and is idempotent on the controls. A requirement is mapped to a control only
where the reference says the control decides it (`pipeproof_controls`: each was read against the control's
query, and the controls mapped to a requirement must all pass for it to pass); controls that only support a requirement are listed in the framework file as `supported_by`, never as mappings.
"""

import json
import re
import sys
from pathlib import Path

DATA = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/data")
ROOT = Path(".")

def q(text):
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def short(text, limit=150):
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def relevance(judged_by):
    return {"automated": "H", "partial": "M"}.get(judged_by, "-")


def write_framework(path, header, requirements, mappings):
    lines = [f"id: {header['id']}", f"name: {q(header['name'])}", f"version: {q(header['version'])}",
             f"source: {q(header['source'])}"]
    if header.get("summary"):
        lines.append(f"summary: {header['summary']}")
    if header.get("parameter_limits"):
        lines.append("parameter_limits:")
        for control, param, bound, value, why in header["parameter_limits"]:
            lines.append(f"  - {{ control: {control}, param: {param}, {bound}: {value}, why: {q(why)} }}")
    if header.get("levels"):
        lines.append("levels:")
        for level_id, name in header["levels"]:
            lines.append(f"  - {{ id: {level_id}, name: {q(name)} }}")
    lines.append("requirements:")
    fid = header["id"]
    for r in requirements:
        lines.append(f"  - id: {q(r['id'])}")
        lines.append(f"    label: {q(r['label'])}")
        lines.append(f"    cicd: {q(r['cicd'])}")
        if r.get("group"):
            lines.append(f"    group: {q(r['group'])}")
        if r.get("levels"):
            lines.append(f"    levels: [{', '.join(str(level) for level in r['levels'])}]")
        if r.get("oscal_id"):
            lines.append(f"    oscal_id: {q(r['oscal_id'])}")
        if r.get("supported_by"):
            lines.append(f"    supported_by: [{', '.join(r['supported_by'])}]")
        for control in r.get("decided", []):
            mappings.setdefault(control, {}).setdefault(fid, []).append(r["id"])
    path.write_text("\n".join(lines) + "\n")


def write_crosswalk(path, ident, source_fw, target_fw, source, edges):
    lines = [f"id: {ident}", f"from: {source_fw}", f"to: {target_fw}", f"source: {q(source)}", "edges:"]
    for a, b in sorted(set(edges)):
        lines.append(f"  - {{ from: {q(a)}, to: {q(b)}, relationship: intersect }}")
    path.write_text("\n".join(lines) + "\n")


def requirement(rid, label, judged_by, proposed, partial, **extra):
    return dict(id=rid, label=label, cicd=extra.pop("cicd", relevance(judged_by)), decided=sorted(set(proposed)),
                supported_by=sorted(set(partial) - set(proposed)), **extra)


def osps():
    d = json.load(open(DATA / "osps_baseline_v2026_02_19.json"))
    families = {f["id"]: f["title"] for f in d["families"]}
    controls = {c["id"]: c for c in d["controls"]}
    reqs = []
    for r in d["requirements"]:
        if r["retired"]:
            continue
        title = controls[r["control"]]["title"]
        reqs.append(requirement(r["id"], f"{title}: {short(r['text'], 130)}", r["judged_by"],
                                r["pipeproof_controls"], r["pipeproof_partial"], group=families[r["family"]],
                                levels=r["levels"], cicd=r.get("cicd_relevance") or relevance(r["judged_by"])))
    header = dict(
        id="osps_baseline", name="OpenSSF OSPS Baseline", version=d["framework"]["version"], summary="levels",
        source="Assessment requirements from ossf/security-baseline " + d["source"]["tag"] + " (Apache-2.0; "
        "attribution: OpenSSF OSPS Baseline); labels quote the control title and the requirement, shortened. "
        "Retired OSPS-BR-01.02 left out.",
        levels=[(level["id"], level["title"]) for level in d["levels"]],
    )
    return header, reqs, d


def nist_800_53():
    d = json.load(open(DATA / "nist_sp800_53r5_rel5_2_0_cicd.json"))
    reqs = []
    for r in d["controls"]:
        judged = r["judged_by"] if r["judged_by"] in ("automated", "partial", "manual") else "manual"
        reqs.append(requirement(r["id"], r["title_with_base"], judged, r["pipeproof_controls"],
                                r["pipeproof_partial"], group=r["family"], oscal_id=r["oscal_id"]))
    header = dict(
        id="nist_sp800_53r5", name="NIST SP 800-53 Rev. 5", version="Release 5.2.0 (CI/CD subset)",
        source="Control ids and titles from NIST's OSCAL catalog (usnistgov/oscal-content, public domain); the "
        "CI/CD-relevant controls and enhancements of the AC, AU, CM, IA, RA, SA, SC, SI and SR families.",
    )
    return header, reqs


def pci():
    d = json.load(open(DATA / "pci_dss_v4_0_1_req6_cicd.json"))
    headings = {r["id"]: r["summary_unofficial"] for r in d["requirements"] if r["judged_by"] == "n/a (heading)"}
    reqs = []
    for r in d["requirements"]:
        if r["judged_by"] == "n/a (heading)":
            continue
        group = f"Requirement {r['principal_requirement']}: {headings.get(r['principal_requirement'], '')}".rstrip(": ")
        reqs.append(requirement(r["id"], r["summary_unofficial"], r["judged_by"], r["pipeproof_controls"],
                                r["pipeproof_partial"], group=group, cicd=r.get("cicd_relevance") or "-"))
    header = dict(
        id="pci_dss", name="PCI DSS", version="4.0.1 (Requirement 6; CI/CD items of 7, 8, 10, 11 and 12)",
        source="Requirement ids of PCI DSS v4.0.1 (c) PCI Security Standards Council; every label is pipeproof's "
        "own paraphrase, not PCI text: read the standard for the wording and testing procedures.",
        parameter_limits=[
            ("BLD-11", "critical_days", "max", 30, "6.3.3: critical security fixes installed within one month"),
            ("SRC-04", "dormant_days", "max", 90, "8.2.6: inactive accounts removed or disabled within 90 days"),
            ("MON-04", "max_age_days", "max", 180, "7.2.4: user accounts and access reviewed at least every six months"),
            ("MON-01", "min_days", "min", 90, "10.5.1: the last three months of audit logs immediately available"),
        ],
    )
    return header, reqs


def cisa():
    d = json.load(open(DATA / "cisa_ssdf_attestation_form_2024.json"))
    reqs = []
    for r in d["items"]:
        if r["judged_by"].startswith("see "):
            continue
        item = r["id"][0]
        group = f"Section III item {item}"
        reqs.append(requirement(r["id"], short(r["text"], 140), r["judged_by"],
                                r["pipeproof_controls"], r["pipeproof_partial"], group=group))
    for rid, label in [
        ("notify", "The producer will notify the agencies if any attested practice is no longer met (the form's "
                   "undertaking)"),
        ("signature", "Signed by the chief executive officer or a designee who can bind the company (or a 3PAO "
                      "assessment attached)"),
    ]:
        reqs.append(dict(id=rid, label=label, cicd="-", group="Section III signature", decided=[], supported_by=[]))
    header = dict(
        id="cisa_ssdf_attestation", name="CISA Secure Software Development Attestation Form",
        version="Common form, March 2024 (OMB 1670-0052)", summary="sections",
        source="Section III items of CISA's common form (public domain), quoted and shortened; pipeproof prepares "
        "the evidence a signer needs and never signs the form.",
    )
    return header, reqs


def fedramp():
    d = json.load(open(DATA / "fedramp_20x_ksi.json"))
    themes = {t["id"]: t["name"] for t in d["themes"]}
    reqs = []
    for r in d["indicators"]:
        reqs.append(requirement(r["id"], f"{r['name']}: {short(r.get('statement') or r['statement_by_level']['moderate'], 120)}",
                                r["judged_by"], r["pipeproof_controls"], r["pipeproof_partial"],
                                group=themes[r["theme"]], cicd=r.get("cicd_relevance") or "-"))
    header = dict(
        id="fedramp_20x_ksi", name="FedRAMP 20x Key Security Indicators", version=d["framework"]["version"],
        summary="indicators",
        source="KSI ids, names and statements from FedRAMP/docs FRMR.documentation.json (public domain), "
        "statements shortened. A pilot that moves: re-read before relying on the ids.",
    )
    return header, reqs, d


def cra():
    d = json.load(open(DATA / "eu_cra_2024_2847_annex_i_vii.json"))
    reqs = []
    for r in d["requirements"]:
        if r["judged_by"].startswith("see "):
            continue
        reqs.append(requirement(r["id"], r["summary_unofficial"], r["judged_by"], r["pipeproof_controls"],
                                r["pipeproof_partial"], group=r["group"], cicd=r.get("cicd_relevance") or "-"))
    header = dict(
        id="eu_cra", name="EU Cyber Resilience Act", version="Regulation (EU) 2024/2847, Annexes I, II and VII",
        summary="releases",
        source="Point ids of Regulation (EU) 2024/2847; labels are pipeproof's own paraphrases (only the Official "
        "Journal text is authentic). Part I concerns the product: pipeline evidence only supports it.",
    )
    return header, reqs


def slsa_source():
    d = json.load(open(DATA / "slsa_v1_1_build_v1_2_source.json"))
    reqs = []
    for r in d["requirements"]:
        if r["track"] != "source":
            continue
        judged = "manual" if r["judged_by"] == "platform-inherent" else r["judged_by"]
        reqs.append(requirement(r["id"], f"Source track (v1.2): {r['title']}", judged, r["pipeproof_controls"],
                                r["pipeproof_partial"], levels=r["levels"], group="Source track"))
    return reqs


def rewrite_slsa(source_reqs, mappings):
    path = ROOT / "controls/frameworks/slsa.yaml"
    text = path.read_text()
    head, _, rest = text.partition("requirements:\n")
    kept = [block for block in re.split(r"(?m)^(?=  - id: )", rest) if block.strip()
            and not re.match(r'  - id: "Source', block)]
    head = re.sub(r"(?m)^version: .*$", 'version: "1.0 Build track; 1.2 Source track"', head)
    head = "".join(line for line in head.splitlines(keepends=True)
                   if not line.startswith(("summary:", "levels:", "  - ")))
    head += "summary: levels\nlevels:\n" + "".join(
        f"  - {{ id: {n}, name: {q(f'Source L{n}')} }}\n" for n in range(1, 5)) + "requirements:\n"
    lines = []
    for r in source_reqs:
        lines.append(f"  - id: {q(r['id'])}\n    label: {q(r['label'])}\n    cicd: {q(r['cicd'])}\n"
                     f"    group: {q(r['group'])}\n    levels: [{', '.join(map(str, r['levels']))}]\n"
                     + (f"    supported_by: [{', '.join(r['supported_by'])}]\n" if r["supported_by"] else ""))
        for control in r["decided"]:
            mappings.setdefault(control, {}).setdefault("slsa", []).append(r["id"])
    path.write_text(head + "".join(kept) + "".join(lines))


def apply_mappings(mappings, frameworks):
    """Rewrites each control's mapping lines for the frameworks this script owns, keeping the others."""
    for path in sorted(ROOT.glob("controls/*/*.yaml")):
        if path.name.endswith(".test.yaml") or path.parent.name in ("frameworks", "crosswalks"):
            continue
        text = path.read_text()
        control = re.search(r"(?m)^id: (\S+)", text).group(1)
        match = re.search(r"(?m)^mappings:\n((?:  .*\n)*)", text)
        existing = match.group(1).splitlines(keepends=True) if match else []
        kept = []
        for line in existing:
            key = line.strip().split(":", 1)[0]
            if key in frameworks and key != "slsa":
                continue
            if key == "slsa":
                ids = [i.strip().strip('"') for i in line.split("[", 1)[1].rsplit("]", 1)[0].split(",") if i.strip()]
                ids = [i for i in ids if not i.startswith("Source")]
                ids += mappings.get(control, {}).get("slsa", [])
                line = f"  slsa: [{', '.join(q(i) for i in ids)}]\n" if ids else ""
            if line:
                kept.append(line)
        has_slsa = any(line.strip().startswith("slsa:") for line in kept)
        for fid in frameworks:
            ids = mappings.get(control, {}).get(fid)
            if fid == "slsa" and (has_slsa or not ids):
                continue
            if ids:
                kept.append(f"  {fid}: [{', '.join(q(i) for i in ids)}]\n")
        block = "mappings:\n" + "".join(kept)
        text = text[:match.start()] + block + text[match.end():] if match else text.rstrip("\n") + "\n" + block
        path.write_text(text)


def crosswalks(osps_data, fedramp_data, known):
    out = ROOT / "controls/crosswalks"
    ars = {}
    for r in osps_data["requirements"]:
        if not r["retired"]:
            ars.setdefault(r["control"], []).append(r["id"])
    cra_id = lambda s: (f"I.{s[2]}({s[3:]})" if re.fullmatch(r"1\.2[a-m]", s) else
                        f"II.{s[2:]}" if re.fullmatch(r"2\.\d+", s) else None)
    wanted = {"PCIDSS": ("pci_dss", lambda s: s), "CRA": ("eu_cra", cra_id),
              "800-161": ("nist_sp800_53r5", lambda s: s)}
    for key, (target, convert) in wanted.items():
        edges, dropped = [], 0
        for control in osps_data["controls"]:
            for ident in control["guideline_mappings"].get(key, []):
                to = convert(ident)
                if to in known[target]:
                    edges += [(ar, to) for ar in ars.get(control["id"], [])]
                else:
                    dropped += 1
        write_crosswalk(out / f"osps_baseline_to_{target}.yaml", f"osps_baseline_to_{target}", "osps_baseline",
                        target, f"OSPS Baseline {osps_data['framework']['version']}'s own guideline_mappings "
                        f"({key}), from each control to its assessment requirements; ids outside pipeproof's subset of the target left out: {dropped}."
                        "", edges)
    by_oscal = {r["oscal_id"]: r["id"] for r in known["nist_sp800_53r5_rows"]}
    edges, dropped = [], 0
    for ksi in fedramp_data["indicators"]:
        for ident in ksi.get("sp800_53_controls", []):
            if ident in by_oscal:
                edges.append((ksi["id"], by_oscal[ident]))
            else:
                dropped += 1
    write_crosswalk(out / "fedramp_20x_ksi_to_nist_sp800_53r5.yaml", "fedramp_20x_ksi_to_nist_sp800_53r5",
                    "fedramp_20x_ksi", "nist_sp800_53r5", "FedRAMP's own list of SP 800-53 controls per KSI "
                    f"(FRMR.documentation.json); ids outside pipeproof's CI/CD subset left out: {dropped}.",
                    edges)


def main():
    mappings = {}
    frameworks_dir = ROOT / "controls/frameworks"
    osps_header, osps_reqs, osps_data = osps()
    nist_header, nist_reqs = nist_800_53()
    fed_header, fed_reqs, fed_data = fedramp()
    for header, reqs in [(osps_header, osps_reqs), (nist_header, nist_reqs), pci(), cisa(), (fed_header, fed_reqs),
                         cra()]:
        write_framework(frameworks_dir / f"{header['id']}.yaml", header, reqs, mappings)
    rewrite_slsa(slsa_source(), mappings)
    owned = ["osps_baseline", "nist_sp800_53r5", "pci_dss", "cisa_ssdf_attestation", "fedramp_20x_ksi", "eu_cra",
             "slsa"]
    apply_mappings(mappings, owned)
    known = {"pci_dss": {r["id"] for r in pci()[1]}, "eu_cra": {r["id"] for r in cra()[1]},
             "nist_sp800_53r5": {r["id"] for r in nist_reqs}, "nist_sp800_53r5_rows": nist_reqs}
    crosswalks(osps_data, fed_data, known)


if __name__ == "__main__":
    main()
