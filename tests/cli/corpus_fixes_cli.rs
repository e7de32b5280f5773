//! Causes of disagreement with Checkov found on the pinned corpus and Checkov's labelled cases
//! (issue 16, bench/README.md), each through the real binary on a workload written to a
//! temporary folder.

use crate::common::{guardrails_with, railyard, temp, write};

/// `encrypted = False` (Python's spelling) is not a Terraform value: Terraform reads `False` as a
/// reference and rejects the file. Railyard used to read it as an unresolved reference, so the
/// unencrypted volume passed silently; now it is a parse error naming the file and line (exit 2).
#[test]
fn miscased_boolean_literal_is_a_parse_error_naming_file_and_line() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"resource "aws_ebs_volume" "ok" {
  availability_zone = "eu-west-1a"
  size              = 40
  encrypted         = true
}

resource "aws_ebs_volume" "disabled" {
  availability_zone = "eu-west-1a"
  size              = 40
  encrypted         = False
}
"#,
    );
    write(
        ws.path(),
        "workload/db.tf",
        r#"resource "aws_db_instance" "db" {
  engine            = "postgres"
  storage_encrypted = var.enabled ? TRUE : false
}
"#,
    );
    guardrails_with(
        &ws.path().join("gr"),
        &["aws-ebs-volume-encryption", "aws-rds-encryption"],
    );
    let run = railyard(ws.path(), &["check", "workload", "--guardrails", "gr"]);
    run.expect_code(2);
    let err = run.all();
    assert!(err.contains("main.tf:10"), "{err}");
    assert!(err.contains("`False`") && err.contains("`false`"), "{err}");
    assert!(err.contains("db.tf:3"), "{err}");
    assert!(err.contains("`TRUE`") && err.contains("`true`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Lower-case literals and ordinary references (a `for` variable, a `dynamic` iterator, an
/// attribute name in `ignore_changes`) are not mistaken for the mis-cased literals.
#[test]
fn real_literals_and_bare_names_still_parse() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"variable "names" {
  type    = list(string)
  default = ["a"]
}

resource "aws_ebs_volume" "v" {
  availability_zone = "eu-west-1a"
  size              = 40
  encrypted         = false
  tags              = { for n in var.names : n => true }

  lifecycle {
    ignore_changes = [tags]
  }
}
"#,
    );
    guardrails_with(&ws.path().join("gr"), &["aws-ebs-volume-encryption"]);
    let run = railyard(
        ws.path(),
        &["check", "workload", "--guardrails", "gr", "--format", "json"],
    );
    run.expect_code(1);
    let doc = run.json();
    assert_eq!(doc["summary"]["errors"], 0, "{}", run.all());
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1), "{}", run.all());
}

/// Each finding as `<its field named by `who`> <file>:<line>`.
fn located(json: &serde_json::Value, who: &str) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f[who].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect()
}

/// What CloudFormation, kubectl and PyYAML accept, found in AWS's serverless-patterns
/// templates: a `!Sub` policy document continued at its key's column, and flow content whose
/// items sit at or left of their key. Railyard used to stop at "invalid indentation" and leave
/// the file unknown (exit 2), so a full-admin inline policy and a privileged container were not
/// judged; now both are read as PyYAML reads them, on their own lines.
#[test]
fn flow_content_and_quoted_scalars_at_the_key_column_are_read_and_judged() {
    let ws = temp();
    write(
        ws.path(),
        "workload/template.yaml",
        r#"AWSTemplateFormatVersion: '2010-09-09'
Resources:
  ClientRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: ec2.amazonaws.com
            Action: 'sts:AssumeRole'
      Policies:
        - PolicyName: Everything
          PolicyDocument: !Sub '{
              "Version": "2012-10-17",
              "Statement": [
                  {
                      "Effect": "Allow",
                      "Action": "*",
                      "Resource": "*"
                  }
              ]
          }'
"#,
    );
    write(
        ws.path(),
        "workload/k8s/pod.yaml",
        r#"apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27.0
      args: [
      "--port",
      "8080"
      ]
      securityContext: {privileged: true,
      runAsNonRoot: true
      }
"#,
    );
    guardrails_with(
        &ws.path().join("gr"),
        &["aws-iam-no-admin-policy", "k8s-no-privileged-containers"],
    );
    let run = railyard(
        ws.path(),
        &["check", "workload", "--guardrails", "gr", "--format", "json"],
    );
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{json:#}");
    let found = located(&json, "guardrail");
    assert!(
        found.contains(&"aws-iam-no-admin-policy template.yaml:3".to_string()),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("k8s-no-privileged-containers k8s/pod.yaml:")),
        "{found:?}"
    );
}

/// `Fn::ForEach` loops (the `AWS::LanguageExtensions` transform) make resources: Railyard used
/// to drop them silently, so a template whose only versioned bucket was written out passed
/// while the buckets its loop makes were never judged. Now each is judged at the loop's
/// output (here its `Properties`, where the setting is missing), and a loop over a list not
/// known before deployment is an error naming it.
#[test]
fn the_resources_a_foreach_loop_makes_are_judged_and_an_unknown_loop_is_an_error() {
    let ws = temp();
    write(
        ws.path(),
        "workload/template.yaml",
        r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::LanguageExtensions
Resources:
  Versioned:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
  Fn::ForEach::Buckets:
    - Name
    - [Logs, Exports]
    - '${Name}Bucket':
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub 'acme-${Name}'
"#,
    );
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    let run = railyard(
        ws.path(),
        &["check", "workload", "--guardrails", "gr", "--format", "json"],
    );
    run.expect_code(1);
    let json = run.json();
    let found = located(&json, "resource");
    assert_eq!(
        found,
        vec![
            "AWS::S3::Bucket.ExportsBucket template.yaml:14",
            "AWS::S3::Bucket.LogsBucket template.yaml:14"
        ]
    );
    write(
        ws.path(),
        "workload/template.yaml",
        r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
Resources:
  Versioned:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
  Fn::ForEach::Buckets:
    - Name
    - !Ref Names
    - '${Name}Bucket':
        Type: AWS::S3::Bucket
"#,
    );
    let run = railyard(ws.path(), &["check", "workload", "--guardrails", "gr"]);
    run.expect_code(2);
    assert!(
        run.all()
            .contains("template.yaml:12: `Fn::ForEach::Buckets`: its collection is not known"),
        "{}",
        run.all()
    );
}

/// A template run through a macro of its own (AWS's samples: `ExecutionRoleBuilder` writes IAM
/// policies, `Boto3` calls APIs, `PyPlate` runs Python) deploys what the macro writes, not what
/// the file says: Railyard judged the file as written and passed it. Now the macro is skipped
/// code naming its line, so the CloudFormation guardrails cannot call the workload compliant.
#[test]
fn a_template_rewritten_by_a_macro_is_never_a_pass() {
    let ws = temp();
    write(
        ws.path(),
        "workload/template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: ExecutionRoleBuilder\nResources:\n  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n      VersioningConfiguration:\n        Status: Enabled\n",
    );
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    let run = railyard(ws.path(), &["check", "workload", "--guardrails", "gr"]);
    run.expect_code(2);
    let all = run.all();
    assert!(all.contains("template.yaml:2"), "{all}");
    assert!(
        all.contains("CloudFormation macro `ExecutionRoleBuilder` rewrites the template"),
        "{all}"
    );
    assert!(all.contains("--template-stage Processed"), "{all}");
    // AWS's own transforms are read as written: the same template under SAM passes.
    write(
        ws.path(),
        "workload/template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n      VersioningConfiguration:\n        Status: Enabled\n",
    );
    railyard(ws.path(), &["check", "workload", "--guardrails", "gr"]).expect_code(0);
}

/// A nested stack deploys its child template's resources. When that template is not in the
/// workload (KaiMonkey's `TemplateURL` points at another account's bucket), Railyard judged the
/// parent alone and passed it; now the stack is skipped code naming its line. A child found
/// by its path, or by the tail of its URL, is judged as its own template.
#[test]
fn a_nested_stack_whose_template_is_not_in_the_workload_is_never_a_pass() {
    let ws = temp();
    let parent = |url: &str| {
        format!(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      VersioningConfiguration:\n        Status: Enabled\n  Network:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"
        )
    };
    write(
        ws.path(),
        "workload/main.yaml",
        parent("https://s3.amazonaws.com/cloudformation-templates-us-east-2/EC2ChooseAMI.template"),
    );
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    let run = railyard(ws.path(), &["check", "workload", "--guardrails", "gr"]);
    run.expect_code(2);
    assert!(
        run.all().contains("main.yaml:8")
            && run
                .all()
                .contains("nested stack AWS::CloudFormation::Stack.Network: its template")
            && run.all().contains("is not in the workload"),
        "{}",
        run.all()
    );
    // The child in the workload, named by the tail of the URL the parent deploys it from.
    write(
        ws.path(),
        "workload/infrastructure/network.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Flow:\n    Type: AWS::S3::Bucket\n",
    );
    for url in [
        "https://s3.amazonaws.com/acme-templates/infrastructure/network.yaml",
        "./infrastructure/network.yaml",
    ] {
        write(ws.path(), "workload/main.yaml", parent(url));
        let run = railyard(
            ws.path(),
            &["check", "workload", "--guardrails", "gr", "--format", "json"],
        );
        run.expect_code(1);
        let json = run.json();
        assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{url}: {json:#}");
        assert_eq!(
            json["findings"][0]["file"], "infrastructure/network.yaml",
            "{url}: {json:#}"
        );
    }
}
