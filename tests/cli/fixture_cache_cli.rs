//! Issue 14: a warm observation does not run fixtures that already passed with the same
//! content, and the gate still holds when the content changes or the cache is not trusted.

use crate::common;
use crate::common::sandbox::{bundled, main_and_develop, two_workloads, Root, Sandbox};
use crate::common::{commit, railyard_env, REGISTRY};

trait Fixtures {
    fn with_candidate() -> Sandbox;
    fn observe(&self, env: &[(&str, &str)]) -> common::Run;
}

impl Fixtures for Sandbox {
    /// `main`: lib and registry; `develop`: the bundled `aws-s3-versioning` (its fixtures pass).
    fn with_candidate() -> Sandbox {
        let sb = Sandbox::empty();
        two_workloads(sb.dir.path(), ["payments", "web"]);
        let mut base = bundled("lib");
        base.push(("workloads.toml".into(), REGISTRY.into()));
        main_and_develop(
            &sb.repo("guardrails"),
            &base,
            &bundled("aws-s3-versioning"),
            "candidate",
        );
        sb
    }

    fn observe(&self, env: &[(&str, &str)]) -> common::Run {
        let repo = self.path("guardrails").to_string_lossy().into_owned();
        let mut env = env.to_vec();
        env.push(("RAILYARD_TIMINGS", "1"));
        railyard_env(
            self.dir.path(),
            &[
                "observe",
                "--dry-run",
                "--now",
                "2026-10-01",
                "--format",
                "json",
                "--repo",
                &repo,
            ],
            &env,
        )
    }
}

/// Fixture evaluations print `timing: … on fixture:…` under `RAILYARD_TIMINGS`.
fn ran_fixtures(run: &common::Run) -> bool {
    run.stderr.contains("on fixture:")
}

#[test]
fn fixtures_that_passed_are_not_run_again_until_their_content_changes() {
    let sb = Sandbox::with_candidate();
    let first = sb.observe(&[]);
    assert!(
        ran_fixtures(&first),
        "the first run runs the fixtures: {}",
        first.stderr
    );
    assert_eq!(first.json()["candidates"][0]["action"], "held", "{}", first.stdout);

    let second = sb.observe(&[]);
    assert!(!ran_fixtures(&second), "a pass is remembered: {}", second.stderr);
    assert_eq!(first.json()["candidates"], second.json()["candidates"]);

    // One more expected finding: the fixtures now fail, and the gate says so.
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(
            "guardrails/aws-s3-versioning/tests/fail/expected.toml",
            Some("\"suspended.tf\" = [\"aws_s3_bucket.media\", \"aws_s3_bucket.tmp\", \"aws_s3_bucket.old\", \"aws_s3_bucket.extra\"]\n\"cloudformation.yaml\" = [\"AWS::S3::Bucket.Logs\", \"AWS::S3::Bucket.Suspended\"]\n\"plan.json\" = [\"aws_s3_bucket.uploads\"]\n"),
        )],
        "expect one more",
    );
    let third = sb.observe(&[]);
    assert!(ran_fixtures(&third), "changed fixtures run again: {}", third.stderr);
    let problems = third.json()["candidates"][0]["problems"].to_string();
    assert!(problems.contains("aws_s3_bucket.extra"), "{problems}");
    // A failure is not remembered: it is judged again on the next run.
    let fourth = sb.observe(&[]);
    assert!(ran_fixtures(&fourth), "{}", fourth.stderr);
    assert!(fourth.json()["candidates"][0]["problems"]
        .to_string()
        .contains("aws_s3_bucket.extra"));
}

#[test]
fn with_the_ledger_key_a_pass_recorded_without_it_is_not_trusted() {
    let sb = Sandbox::with_candidate();
    let unsigned = sb.observe(&[]);
    assert!(ran_fixtures(&unsigned), "{}", unsigned.stderr);
    let passes = sb.dir.path().join(".railyard-test-cache/fixtures");
    assert_eq!(std::fs::read_dir(&passes).unwrap().count(), 1, "one pass recorded");

    // The same cache restored into a run that has the key: the entry has no valid MAC.
    let key = [("RAILYARD_LEDGER_KEY", "k3y-for-tests-only")];
    let keyed = sb.observe(&key);
    assert!(
        ran_fixtures(&keyed),
        "an unauthenticated pass is run again: {}",
        keyed.stderr
    );
    // Now recorded with the key, it is trusted by the next keyed run…
    assert!(!ran_fixtures(&sb.observe(&key)));
    // …and not by a run with another key.
    assert!(ran_fixtures(&sb.observe(&[("RAILYARD_LEDGER_KEY", "another-key")])));
}
