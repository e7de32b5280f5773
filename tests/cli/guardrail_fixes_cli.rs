//! Guardrail logic errors found on real-world code (issue 16, item 7), each through the real
//! binary on a workload written to a temporary folder: the CloudFormation `AuthenticatedRead`
//! ACL, security-group rules judged by their protocol, and hard-coded provider credentials
//! reported once per provider block.

use crate::common;
use crate::common::{guardrails_with, railyard, temp, write};
use serde_json::Value;
use std::path::Path;

/// `railyard check WORKLOAD --guardrails GR --format json` with only the given guardrails.
fn check(ws: &Path, ids: &[&str]) -> common::Run {
    guardrails_with(&ws.join("gr"), ids);
    railyard(ws, &["check", "workload", "--guardrails", "gr", "--format", "json"])
}

/// (guardrail, resource, message) of every finding.
fn findings(run: &common::Run) -> Vec<(String, String, String)> {
    let doc: Value = run.json();
    doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["guardrail"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The resources flagged by `guardrail`, sorted (resource names end with the logical id or
/// Terraform address, whatever identity prefix the report adds).
fn flagged(run: &common::Run, guardrail: &str) -> Vec<String> {
    let mut out: Vec<String> = findings(run)
        .into_iter()
        .filter(|(g, _, _)| g == guardrail)
        .map(|(_, r, _)| r)
        .collect();
    out.sort();
    out
}

fn ends_with_each(got: &[String], want: &[&str]) {
    assert_eq!(got.len(), want.len(), "flagged {got:?}, want {want:?}");
    for w in want {
        assert!(got.iter().any(|g| g.ends_with(w)), "{w} not flagged: {got:?}");
    }
}

#[test]
fn cloudformation_authenticated_read_bucket_is_reported_as_public() {
    let ws = temp();
    write(
        ws.path(),
        "workload/buckets.yaml",
        r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Partners:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: AuthenticatedRead
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: LogDeliveryWrite
"#,
    );
    let run = check(ws.path(), &["aws-s3-no-public-acl"]);
    run.expect_code(1);
    ends_with_each(&flagged(&run, "aws-s3-no-public-acl"), &["AWS::S3::Bucket.Partners"]);
    let (_, _, message) = &findings(&run)[0];
    assert!(message.contains("AuthenticatedRead"), "{message}");
}

const NON_TCP_RULES_TF: &str = r#"resource "aws_security_group" "edge" {
  name = "edge"

  ingress {
    description = "every UDP port (DNS, NTP, ...)"
    from_port   = 0
    to_port     = 65535
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "every ICMP type and code"
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "udp_22" {
  type              = "ingress"
  security_group_id = aws_security_group.edge.id
  from_port         = 22
  to_port           = 22
  protocol          = "17"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_vpc_security_group_ingress_rule" "icmpv6" {
  security_group_id = aws_security_group.edge.id
  from_port         = -1
  to_port           = -1
  ip_protocol       = "icmpv6"
  cidr_ipv6         = "::/0"
}
"#;

const NON_TCP_RULES_CFN: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  EdgeSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: edge
      SecurityGroupIngress:
        - IpProtocol: udp
          FromPort: 0
          ToPort: 65535
          CidrIp: 0.0.0.0/0
        - IpProtocol: icmp
          FromPort: -1
          ToPort: -1
          CidrIp: 0.0.0.0/0
"#;

#[test]
fn udp_and_icmp_rules_are_not_open_ssh_nor_all_traffic() {
    let ws = temp();
    write(ws.path(), "workload/main.tf", NON_TCP_RULES_TF);
    write(ws.path(), "workload/edge.yaml", NON_TCP_RULES_CFN);
    let run = check(ws.path(), &["aws-sg-no-public-ssh", "aws-sg-no-public-all-ports"]);
    assert_eq!(findings(&run), vec![], "stderr: {}", run.stderr);
    run.expect_code(0);
}

#[test]
fn icmp_is_not_rdp_but_udp_3389_is() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"resource "aws_security_group" "ping" {
  name = "ping"

  ingress {
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "rdp_udp" {
  name = "rdp-udp"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#,
    );
    let run = check(ws.path(), &["aws-sg-no-public-rdp"]);
    run.expect_code(1);
    ends_with_each(&flagged(&run, "aws-sg-no-public-rdp"), &["aws_security_group.rdp_udp"]);
    assert!(findings(&run)[0].2.contains("udp 3389-3389"), "{:?}", findings(&run));
}

#[test]
fn every_protocol_rules_without_ports_open_ssh_rdp_and_all_traffic() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"resource "aws_security_group" "app" {
  name = "app"
}

resource "aws_vpc_security_group_ingress_rule" "everything" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
"#,
    );
    write(
        ws.path(),
        "workload/open.yaml",
        r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OpenSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: open
      SecurityGroupIngress:
        - IpProtocol: -1
          CidrIp: 0.0.0.0/0
"#,
    );
    let run = check(
        ws.path(),
        &[
            "aws-sg-no-public-ssh",
            "aws-sg-no-public-rdp",
            "aws-sg-no-public-all-ports",
        ],
    );
    run.expect_code(1);
    let both = [
        "aws_vpc_security_group_ingress_rule.everything",
        "AWS::EC2::SecurityGroup.OpenSg",
    ];
    ends_with_each(&flagged(&run, "aws-sg-no-public-ssh"), &both);
    ends_with_each(&flagged(&run, "aws-sg-no-public-rdp"), &both);
    // CKV_AWS_277 has no CloudFormation form; the guardrail follows it (Terraform only).
    ends_with_each(
        &flagged(&run, "aws-sg-no-public-all-ports"),
        &["aws_vpc_security_group_ingress_rule.everything"],
    );
}

#[test]
fn hard_coded_credentials_are_one_finding_per_provider_block() {
    let ws = temp();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    write(
        ws.path(),
        "workload/providers.tf",
        format!(
            r#"provider "aws" {{
  region     = "us-east-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
  secret_key = "{secret}"
}}

provider "aws" {{
  alias      = "dr"
  region     = "us-west-2"
  access_key = "AKIAI44QH8DHBEXAMPLE"
}}
"#
        ),
    );
    let run = check(ws.path(), &["aws-provider-no-hardcoded-credentials"]);
    run.expect_code(1);
    let all = findings(&run);
    assert_eq!(all.len(), 2, "one finding per provider block: {all:?}");
    let default = all
        .iter()
        .find(|(_, r, _)| r.ends_with("provider.aws"))
        .expect("provider.aws");
    assert!(
        default.2.contains("access_key and secret_key are hard-coded"),
        "{}",
        default.2
    );
    let dr = all
        .iter()
        .find(|(_, r, _)| r.ends_with("provider.aws.dr"))
        .expect("provider.aws.dr");
    assert!(dr.2.contains("access_key is hard-coded"), "{}", dr.2);
    assert!(!run.all().contains(secret), "the secret is printed");
    assert!(!run.all().contains("AKIAI44QH8DHBEXAMPLE"), "the access key is printed");
}

#[test]
fn an_empty_root_block_device_is_an_unencrypted_root_volume() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"resource "aws_instance" "empty_root" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"

  root_block_device {}
}

resource "aws_instance" "encrypted" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"

  root_block_device {
    encrypted = true
  }
}
"#,
    );
    let run = check(ws.path(), &["aws-ec2-ebs-encryption"]);
    run.expect_code(1);
    ends_with_each(&flagged(&run, "aws-ec2-ebs-encryption"), &["aws_instance.empty_root"]);
}

#[test]
fn a_default_encryption_rule_without_an_algorithm_is_reported() {
    let ws = temp();
    write(
        ws.path(),
        "workload/main.tf",
        r#"resource "aws_s3_bucket" "data" {
  bucket = "acme-data"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.bucket

  rule {
    apply_server_side_encryption_by_default {
      kms_master_key_id = "arn:aws:kms:us-east-1:111122223333:key/abcd"
    }
  }
}
"#,
    );
    let run = check(ws.path(), &["aws-s3-encryption"]);
    run.expect_code(1);
    ends_with_each(&flagged(&run, "aws-s3-encryption"), &["aws_s3_bucket.data"]);
}
