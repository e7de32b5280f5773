//! `--framework NAME` on `check`, `report` and `preview`, and `report --by framework`
//! (compliance per control), on real repositories and the bundled guardrails' mappings:
//! aws-ebs-volume-encryption maps `PCI-DSS-3.2.1 3.4` and `NIST-800-53 SC-28`,
//! aws-s3-versioning `NIST-800-53 CP-9` and `SOC2 A1.2`.

use crate::common::sandbox::{bundled, command, main_and_develop, text, two_workloads, Root, Sandbox};
use crate::common::{guardrails_with, railyard, write, REGISTRY, UNVERSIONED_TF};
use std::process::Output;

trait FrameworkSandbox {
    fn run(&self, args: &[&str]) -> Output;
}

impl FrameworkSandbox for Sandbox {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env_remove("RAILYARD_LEDGER_KEY");
        cmd.output().unwrap()
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn check_evaluates_only_the_guardrails_of_the_framework() {
    let dir = crate::common::temp();
    guardrails_with(
        &dir.path().join("g"),
        &["aws-s3-versioning", "aws-ebs-volume-encryption"],
    );
    write(dir.path(), "web/main.tf", UNVERSIONED_TF);
    let check = |framework: &str| {
        let g = dir.path().join("g");
        railyard(
            dir.path(),
            &[
                "check",
                "web",
                "--guardrails",
                g.to_str().unwrap(),
                "--format",
                "json",
                "--framework",
                framework,
            ],
        )
    };
    // PCI DSS maps only the EBS guardrail, which this bucket does not break.
    let r = check("PCI-DSS");
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["summary"]["guardrails"], 1, "{j}");
    assert_eq!(j["findings"].as_array().unwrap().len(), 0);
    // SOC2 maps the versioning guardrail: its finding fails the build. Case is ignored.
    let r = check("soc2");
    r.expect_code(1);
    let j = r.json();
    assert_eq!(j["summary"]["guardrails"], 1, "{j}");
    assert_eq!(j["findings"][0]["guardrail"], "aws-s3-versioning");
    // A framework nothing maps is an error naming what is mapped, never an empty pass.
    let r = check("HIPAA");
    r.expect_code(2);
    let all = r.all();
    assert!(all.contains("no guardrail maps to framework `HIPAA`"), "{all}");
    assert!(all.contains("PCI-DSS-3.2.1"), "{all}");
}

/// payments-api (compliant), web (unversioned bucket) and `gone` (no repository) registered;
/// develop with aws-ebs-volume-encryption and aws-s3-versioning, observed on 2026-11-01.
fn observed() -> Sandbox {
    let sb = Sandbox::empty();
    two_workloads(sb.dir.path(), ["payments infra", "web infra"]);
    let registry = format!("{REGISTRY}\n[[workload]]\nname = \"gone\"\nrepo = \"../gone\"\nteam = \"web\"\n");
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry));
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
    // `gone` cannot be fetched: the run records it as unknown and exits 2.
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    sb
}

fn control<'a>(r: &'a serde_json::Value, framework: &str, control: &str) -> &'a serde_json::Value {
    r["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["framework"] == framework && c["control"] == control)
        .unwrap_or_else(|| panic!("{framework} {control} missing: {r}"))
}

#[test]
fn report_by_framework_counts_workloads_per_control_and_never_counts_unknown_as_compliant() {
    let sb = observed();
    let out = sb.run(&["report", "--by", "framework", "--now", "2026-11-02", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["view"], "framework");
    assert_eq!(r["workloads"], 3);
    let pci = control(&r, "PCI-DSS-3.2.1", "3.4");
    assert_eq!(pci["guardrails"][0], "aws-ebs-volume-encryption");
    assert_eq!(
        (&pci["compliant"], &pci["noncompliant"], &pci["unknown"]),
        (&2.into(), &0.into(), &1.into()),
        "{pci}"
    );
    let cp9 = control(&r, "NIST-800-53", "CP-9");
    assert_eq!(
        (&cp9["compliant"], &cp9["noncompliant"], &cp9["unknown"]),
        (&1.into(), &1.into(), &1.into()),
        "{cp9}"
    );

    // --framework keeps that framework's controls only.
    let out = sb.run(&[
        "report",
        "--by",
        "framework",
        "--framework",
        "SOC2",
        "--now",
        "2026-11-02",
        "--format",
        "json",
    ]);
    let r = json(&out);
    assert_eq!(r["subject"], "SOC2");
    assert_eq!(r["controls"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["controls"][0]["control"], "A1.2");

    // Markdown and table say the same.
    let out = sb.run(&[
        "report",
        "--by",
        "framework",
        "--now",
        "2026-11-02",
        "--format",
        "markdown",
    ]);
    let md = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        md.contains("| NIST-800-53 | CP-9 | 1 of 3 | 1 | 0 | 1 | `aws-s3-versioning` |"),
        "{md}"
    );
    let out = sb.run(&["report", "--by", "framework", "--now", "2026-11-02"]);
    let t = text(&out);
    assert!(t.contains("PCI-DSS-3.2.1") && t.contains("2 of 3"), "{t}");
}

#[test]
fn report_and_preview_filter_by_framework() {
    let sb = observed();
    // The security team's view: only the guardrails PCI DSS maps.
    let out = sb.run(&[
        "report",
        "--framework",
        "PCI-DSS",
        "--now",
        "2026-11-02",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = json(&out);
    let ids: Vec<&str> = r["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["guardrail"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["aws-ebs-volume-encryption"], "{r}");
    // A team's exposure: web breaks only the versioning guardrail, which PCI DSS does not map.
    let out = sb.run(&[
        "report",
        "--team",
        "web",
        "--framework",
        "PCI-DSS",
        "--now",
        "2026-11-02",
        "--format",
        "json",
    ]);
    let r = json(&out);
    assert!(
        r["exposure"]
            .as_array()
            .is_none_or(|e| e.iter().all(|x| x["guardrail"] == "aws-ebs-volume-encryption")),
        "{r}"
    );
    let out = sb.run(&["report", "--framework", "NOPE", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // preview: only the changes of guardrails the framework maps.
    let out = sb.run(&[
        "preview",
        "--framework",
        "SOC2",
        "--now",
        "2026-11-02",
        "--format",
        "json",
    ]);
    let p = json(&out);
    let ids: Vec<&str> = p["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["aws-s3-versioning"], "{p}");
}
