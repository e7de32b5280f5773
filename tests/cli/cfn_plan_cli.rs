//! `railyard check` with the bundled guardrails on CloudFormation templates whose values come
//! from parameters, mappings and conditions, on templates written the ways CloudFormation
//! accepts (indented, with a byte order mark, CRLF line endings), and on Terraform plan JSON
//! with values known only after apply (issue 16, "Why" items 3 and 4, item 5's CloudFormation
//! parts). Real binary, real files, no network.

use crate::common;
use crate::common::{bundled_guardrails, railyard, temp, write};
use serde_json::Value;
use std::path::Path;

/// `railyard check <ws>/<workload> --guardrails <bundled> --format json`, run in `ws`.
fn check(ws: &Path, workload: &str) -> common::Run {
    railyard(
        ws,
        &[
            "check",
            workload,
            "--guardrails",
            &bundled_guardrails().display().to_string(),
            "--format",
            "json",
        ],
    )
}

/// The findings of one guardrail as (resource, file, line).
fn found(report: &Value, guardrail: &str) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["guardrail"] == guardrail)
        .map(|f| {
            (
                f["resource"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn one(resource: &str, file: &str, line: u64) -> Vec<(String, String, u64)> {
    vec![(resource.to_string(), file.to_string(), line)]
}

// ---------------------------------------------------------------------------------------------
// CloudFormation parameters, conditions, mappings, Sub

const SSH_FROM_PARAMETER: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  SSHLocation:
    Description: The IP address range that can SSH to the instance
    Type: String
    Default: 0.0.0.0/0
  AdminCidr:
    Type: String
Resources:
  BastionSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ssh from the parameter's default
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !Ref SSHLocation
  AdminSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ssh from a parameter without default
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !Ref AdminCidr
"#;

#[test]
fn a_parameter_default_reaches_the_security_group_rule() {
    let ws = temp();
    write(ws.path(), "stack/bastion.yaml", SSH_FROM_PARAMETER);
    let run = check(ws.path(), "stack");
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["resources"], 2, "{report}");
    // The parameter without a default stays unknown: not reported.
    assert_eq!(
        found(&report, "aws-sg-no-public-ssh"),
        one("AWS::EC2::SecurityGroup.BastionSg", "bastion.yaml", 10)
    );
}

const CONDITIONS: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Region:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
  IsDev: !Not [!Condition IsProd]
  InEurope: !Equals [!Ref Region, eu-west-1]
  ProdInEurope: !And [!Condition IsProd, !Condition InEurope]
  DevOrEurope: !Or [!Condition IsDev, !Condition InEurope]
Resources:
  AppDb:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      StorageEncrypted: !If [IsProd, true, false]
  UnknownDb:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      StorageEncrypted: !If [InEurope, true, false]
  DevDb:
    Type: AWS::RDS::DBInstance
    Condition: DevOrEurope
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      StorageEncrypted: !If [IsDev, !Ref "AWS::NoValue", true]
  ProdOnlySg:
    Type: AWS::EC2::SecurityGroup
    Condition: ProdInEurope
    Properties:
      GroupDescription: never created with the defaults
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
"#;

#[test]
fn conditions_pick_branches_and_a_false_condition_removes_the_resource() {
    let ws = temp();
    write(ws.path(), "stack/db.yaml", CONDITIONS);
    let run = check(ws.path(), "stack");
    run.expect_code(1);
    let report = run.json();
    // `!If [IsProd, true, false]` is false with Environment=dev; `!If [InEurope, ...]` stays
    // unknown (Region has no default); `!If [IsDev, AWS::NoValue, ...]` removes the property,
    // so DevDb (which exists: IsDev) is unencrypted. Findings name the `StorageEncrypted` line.
    let mut got = found(&report, "aws-rds-encryption");
    got.sort();
    assert_eq!(
        got,
        vec![
            ("AWS::RDS::DBInstance.AppDb".to_string(), "db.yaml".to_string(), 21),
            ("AWS::RDS::DBInstance.DevDb".to_string(), "db.yaml".to_string(), 34),
        ]
    );
    // ProdOnlySg does not exist (its condition is false): not a resource, no finding.
    assert_eq!(report["summary"]["resources"], 3, "{report}");
    assert!(found(&report, "aws-sg-no-public-ssh").is_empty(), "{report}");
}

const MAPS_AND_SUB: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment:
    Type: String
    Default: dev
  Mode:
    Type: String
    Default: Read
Mappings:
  Ingress:
    dev:
      Cidr: 0.0.0.0/0
    prod:
      Cidr: 10.0.0.0/8
  ByRegion:
    us-east-1:
      Cidr: 0.0.0.0/0
Resources:
  MappedSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: cidr from a mapping with a known key
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !FindInMap [Ingress, !Ref Environment, Cidr]
  RegionSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: keyed by a pseudo parameter, unknown
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !FindInMap [ByRegion, !Ref "AWS::Region", Cidr]
  SubSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: cidr from Sub
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: !Sub "0.0.0.0/${Bits}"
          CidrIpv6: !Sub ["${Prefix}/0", {Prefix: "::"}]
  PublicBucket:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: !Sub "Public${Mode}"
  AccountBucket:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: !Sub "Public${AWS::AccountId}"
"#;

#[test]
fn mappings_and_sub_resolve_with_known_keys_and_pseudo_parameters_stay_unknown() {
    let ws = temp();
    write(ws.path(), "stack/net.yaml", MAPS_AND_SUB);
    let run = check(ws.path(), "stack");
    run.expect_code(1);
    let report = run.json();
    // MappedSg: mapping with a known key; SubSg: the `!Sub [str, {vars}]` IPv6 form (its IPv4
    // Sub names an undefined variable and stays unknown). RegionSg is keyed by AWS::Region.
    let mut got = found(&report, "aws-sg-no-public-ssh");
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "AWS::EC2::SecurityGroup.MappedSg".to_string(),
                "net.yaml".to_string(),
                19
            ),
            ("AWS::EC2::SecurityGroup.SubSg".to_string(), "net.yaml".to_string(), 37),
        ]
    );
    assert_eq!(
        found(&report, "aws-s3-no-public-acl"),
        one("AWS::S3::Bucket.PublicBucket", "net.yaml", 47)
    );
}

/// A Conftest-style guardrail reads `input.files`: the template as written, `!Ref` and all.
#[test]
fn the_raw_template_in_input_files_is_unchanged() {
    let ws = temp();
    write(ws.path(), "stack/bastion.yaml", SSH_FROM_PARAMETER);
    write(
        ws.path(),
        "gr/raw-ref/guardrail.toml",
        "title = \"Ingress CIDRs come from parameters\"\nseverity = \"low\"\nremediation = \"-\"\n",
    );
    write(
        ws.path(),
        "gr/raw-ref/policy.rego",
        r#"package railyard.raw_ref

deny contains f if {
	some path, doc in input.files
	some id, r in doc.Resources
	some rule in r.Properties.SecurityGroupIngress
	rule.CidrIp.Ref == "SSHLocation"
	f := {"resource": sprintf("%s.%s", [r.Type, id]), "message": sprintf("%s: %s", [path, id])}
}
"#,
    );
    let run = railyard(ws.path(), &["check", "stack", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        found(&run.json(), "raw-ref"),
        one("AWS::EC2::SecurityGroup.BastionSg", "bastion.yaml", 10)
    );
}

// ---------------------------------------------------------------------------------------------
// Templates as CloudFormation accepts them

#[test]
fn a_template_with_indented_top_level_keys_is_read() {
    let ws = temp();
    let indented: String = SSH_FROM_PARAMETER.lines().map(|l| format!("  {l}\n")).collect();
    write(ws.path(), "stack/indented.yaml", indented);
    let run = check(ws.path(), "stack");
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["files"], 1, "{report}");
    assert_eq!(
        found(&report, "aws-sg-no-public-ssh"),
        one("AWS::EC2::SecurityGroup.BastionSg", "indented.yaml", 10)
    );
}

#[test]
fn byte_order_mark_and_crlf_keep_templates_and_their_lines() {
    let ws = temp();
    // One logical id per file: the finding of each file is its own.
    let named = |id: &str| SSH_FROM_PARAMETER.replace("BastionSg", id);
    let crlf = |id: &str| named(id).replace('\n', "\r\n");
    write(ws.path(), "stack/bom.yaml", format!("\u{feff}{}", named("BomSg")));
    write(ws.path(), "stack/crlf.yaml", crlf("CrlfSg"));
    write(
        ws.path(),
        "stack/bom-crlf.yaml",
        format!("\u{feff}{}", crlf("BomCrlfSg")),
    );
    let json = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"SSHLocation": {"Type": "String", "Default": "0.0.0.0/0"}},
  "Resources": {
    "JsonSg": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "json",
        "SecurityGroupIngress": [
          {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": {"Ref": "SSHLocation"}}
        ]
      }
    }
  }
}
"#;
    write(
        ws.path(),
        "stack/bom.json",
        format!("\u{feff}{}", json.replace('\n', "\r\n")),
    );
    let run = check(ws.path(), "stack");
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["errors"], 0, "{report}");
    let mut got = found(&report, "aws-sg-no-public-ssh");
    got.sort();
    let sg = |id: &str, file: &str, line| (format!("AWS::EC2::SecurityGroup.{id}"), file.to_string(), line);
    assert_eq!(
        got,
        vec![
            sg("BomCrlfSg", "bom-crlf.yaml", 10),
            sg("BomSg", "bom.yaml", 10),
            sg("CrlfSg", "crlf.yaml", 10),
            sg("JsonSg", "bom.json", 5),
        ]
    );
    for f in report["findings"].as_array().unwrap() {
        if f["guardrail"] == "aws-sg-no-public-ssh" && f["file"] != "bom.json" {
            assert_eq!(f["end_line"], 18, "{f}");
        }
    }
}

#[test]
fn a_template_by_content_that_cannot_be_read_is_an_error_naming_file_and_line() {
    let ws = temp();
    // Indented as a whole, with one line indented wrongly.
    let broken = "  AWSTemplateFormatVersion: \"2010-09-09\"\n  Resources:\n    Db:\n      Type: AWS::RDS::DBInstance\n      Properties:\n        Engine: mysql\n       StorageEncrypted: false\n";
    write(ws.path(), "indented/template.yaml", broken);
    let report = check(ws.path(), "indented").expect_code(2).json();
    assert_eq!(report["errors"][0]["file"], "template.yaml", "{report}");
    assert_eq!(report["errors"][0]["line"], 7, "{report}");
    // A resource without a Type: CloudFormation refuses the template, so do we.
    let untyped = "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n  Db:\n    Properties:\n      Engine: mysql\n";
    write(ws.path(), "untyped/template.yaml", untyped);
    let run = check(ws.path(), "untyped");
    run.expect_code(2);
    let report = run.json();
    assert_eq!(report["errors"][0]["file"], "template.yaml", "{report}");
    assert_eq!(report["errors"][0]["line"], 4, "{report}");
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`Db` has no `Type`"),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------------
// Terraform plan JSON: values known only after apply

/// `terraform show -json` of:
///   aws_kms_key.k; aws_cloudtrail.trail { kms_key_id = aws_kms_key.k.arn }; aws_cloudtrail.bare {};
///   aws_dynamodb_table.t { server_side_encryption { enabled = true, kms_key_arn = aws_kms_key.k.arn } };
///   aws_s3_bucket.data + aws_s3_bucket_server_side_encryption_configuration.data
///     { bucket = aws_s3_bucket.data.id, rule { apply_server_side_encryption_by_default {
///       sse_algorithm = "aws:kms", kms_master_key_id = aws_kms_key.k.arn } } },
///   aws_s3_bucket_versioning.data and aws_s3_bucket_public_access_block.data (same bucket).
/// `planned_values` leaves the unknown values out; `after_unknown` marks them.
fn plan_json() -> String {
    let resource = |address: &str, values: Value| {
        let (t, n) = address.split_once('.').unwrap();
        serde_json::json!({"address": address, "mode": "managed", "type": t, "name": n,
                           "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
                           "values": values})
    };
    let change = |address: &str, after_unknown: Value| {
        let (t, n) = address.split_once('.').unwrap();
        serde_json::json!({"address": address, "mode": "managed", "type": t, "name": n,
                           "change": {"actions": ["create"], "before": null, "after_unknown": after_unknown}})
    };
    let config = |address: &str, expressions: Value| {
        let (t, n) = address.split_once('.').unwrap();
        serde_json::json!({"address": address, "mode": "managed", "type": t, "name": n,
                           "expressions": expressions})
    };
    let key_ref = serde_json::json!({"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]});
    let bucket_ref = serde_json::json!({"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}});
    let plan = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": [
            resource("aws_kms_key.k", serde_json::json!({"enable_key_rotation": true})),
            resource("aws_cloudtrail.trail", serde_json::json!({"name": "trail", "enable_log_file_validation": true})),
            resource("aws_cloudtrail.bare", serde_json::json!({"name": "bare", "enable_log_file_validation": true})),
            resource("aws_dynamodb_table.t", serde_json::json!({"name": "t", "hash_key": "id",
                "server_side_encryption": [{"enabled": true}]})),
            resource("aws_s3_bucket.data", serde_json::json!({"bucket": "acme-data"})),
            resource("aws_s3_bucket_server_side_encryption_configuration.data", serde_json::json!({
                "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]})),
            resource("aws_s3_bucket_versioning.data", serde_json::json!({
                "versioning_configuration": [{"status": "Enabled"}]})),
            resource("aws_s3_bucket_public_access_block.data", serde_json::json!({
                "block_public_acls": true, "block_public_policy": true,
                "ignore_public_acls": true, "restrict_public_buckets": true})),
        ]}},
        "resource_changes": [
            change("aws_kms_key.k", serde_json::json!({"arn": true, "id": true, "key_id": true})),
            change("aws_cloudtrail.trail", serde_json::json!({"arn": true, "kms_key_id": true, "tags_all": {}})),
            change("aws_cloudtrail.bare", serde_json::json!({"arn": true, "tags_all": {}})),
            change("aws_dynamodb_table.t", serde_json::json!({"arn": true,
                "server_side_encryption": [{"kms_key_arn": true}]})),
            change("aws_s3_bucket.data", serde_json::json!({"arn": true, "id": true})),
            change("aws_s3_bucket_server_side_encryption_configuration.data", serde_json::json!({
                "bucket": true, "id": true,
                "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": true}]}]})),
            change("aws_s3_bucket_versioning.data", serde_json::json!({"bucket": true, "id": true})),
            change("aws_s3_bucket_public_access_block.data", serde_json::json!({"bucket": true, "id": true})),
        ],
        "configuration": {"root_module": {"resources": [
            config("aws_kms_key.k", serde_json::json!({"enable_key_rotation": {"constant_value": true}})),
            config("aws_cloudtrail.trail", serde_json::json!({"kms_key_id": key_ref})),
            config("aws_cloudtrail.bare", serde_json::json!({})),
            config("aws_dynamodb_table.t", serde_json::json!({"server_side_encryption": [
                {"enabled": {"constant_value": true}, "kms_key_arn": key_ref}]})),
            config("aws_s3_bucket.data", serde_json::json!({"bucket": {"constant_value": "acme-data"}})),
            config("aws_s3_bucket_server_side_encryption_configuration.data", serde_json::json!({
                "bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]},
                "rule": [{"apply_server_side_encryption_by_default": [
                    {"sse_algorithm": {"constant_value": "aws:kms"}, "kms_master_key_id": key_ref}]}]})),
            config("aws_s3_bucket_versioning.data", bucket_ref.clone()),
            config("aws_s3_bucket_public_access_block.data", bucket_ref),
        ]}}
    });
    serde_json::to_string_pretty(&plan).unwrap()
}

#[test]
fn plan_values_known_after_apply_count_as_set() {
    let ws = temp();
    let text = plan_json();
    write(ws.path(), "plan/plan.json", &text);
    let line_of = |address: &str| {
        let needle = format!("\"address\": \"{address}\"");
        text.lines().position(|l| l.contains(&needle)).unwrap() as u64 + 1
    };
    let run = check(ws.path(), "plan");
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["errors"], 0, "{report}");
    // kms_key_id = aws_kms_key.k.arn is set; the trail without one is still reported.
    assert_eq!(
        found(&report, "aws-cloudtrail-kms-encryption"),
        one("aws_cloudtrail.bare", "plan.json", line_of("aws_cloudtrail.bare"))
    );
    assert!(found(&report, "aws-dynamodb-kms").is_empty(), "{report}");
    // The configuration resources refer to their bucket (bucket = aws_s3_bucket.data.id,
    // unknown until apply): the guardrails that follow them see them.
    for guardrail in [
        "aws-s3-kms-encryption",
        "aws-s3-encryption",
        "aws-s3-versioning",
        "aws-s3-public-access-block",
    ] {
        assert!(found(&report, guardrail).is_empty(), "{guardrail}: {report}");
    }

    // The same plan with a byte order mark and CRLF line endings: same findings, same lines.
    write(
        ws.path(),
        "bom/plan.json",
        format!("\u{feff}{}", text.replace('\n', "\r\n")),
    );
    let bom = check(ws.path(), "bom").json();
    assert_eq!(bom["summary"]["errors"], 0, "{bom}");
    assert_eq!(bom["findings"], report["findings"]);
}
