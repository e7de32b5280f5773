//! The benchmark workload of `cargo bench --bench check` and `bench/compare-checkov.py`: a
//! realistic Terraform workload, 5–10 resources per file from a mix of S3 buckets (with and
//! without versioning, encryption, public access blocks, logging), security groups, RDS, EBS
//! and IAM policies. 100 files give 819 resources; the same seed always gives the same files.

use crate::Rng;
use std::fmt::Write as _;
use std::path::Path;

/// The seed of the benchmark workload (`RAILYARD`).
pub const SEED: u64 = 0x5241_494c_5941_5244;

/// One Terraform file: variables and locals, then 5–10 resources from a realistic mix.
fn terraform_file(index: usize, rng: &mut Rng) -> (String, usize) {
    let mut s = String::new();
    let env = ["prod", "staging", "dev"][rng.below(3) as usize];
    let team = ["payments", "search", "platform", "data"][rng.below(4) as usize];
    writeln!(
        s,
        r#"variable "environment_{index}" {{
  type    = string
  default = "{env}"
}}

variable "kms_key_{index}" {{
  type = string
}}

locals {{
  prefix_{index} = "acme-{team}-${{var.environment_{index}}}"
  tags_{index} = {{
    owner       = "{team}"
    environment = var.environment_{index}
  }}
}}
"#
    )
    .unwrap();
    let mut resources = 0;
    let target = 5 + rng.below(6) as usize;
    let mut n = 0;
    while resources < target {
        n += 1;
        let name = format!("r{index}_{n}");
        match rng.below(6) {
            // An S3 bucket with separate versioning, encryption and public-access resources,
            // each present or not.
            0 | 1 => {
                let tags = if rng.chance(70) {
                    format!("\n  tags = local.tags_{index}\n")
                } else {
                    "\n".to_string()
                };
                writeln!(
                    s,
                    "resource \"aws_s3_bucket\" \"{name}\" {{\n  bucket = \"${{local.prefix_{index}}}-{n}\"{tags}}}\n"
                )
                .unwrap();
                resources += 1;
                if rng.chance(70) {
                    let status = if rng.chance(85) { "Enabled" } else { "Suspended" };
                    writeln!(s, "resource \"aws_s3_bucket_versioning\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  versioning_configuration {{\n    status = \"{status}\"\n  }}\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(70) {
                    let algo = if rng.chance(60) { "aws:kms" } else { "AES256" };
                    writeln!(s, "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  rule {{\n    apply_server_side_encryption_by_default {{\n      sse_algorithm     = \"{algo}\"\n      kms_master_key_id = var.kms_key_{index}\n    }}\n  }}\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(60) {
                    let b = rng.chance(90);
                    writeln!(s, "resource \"aws_s3_bucket_public_access_block\" \"{name}\" {{\n  bucket                  = aws_s3_bucket.{name}.id\n  block_public_acls       = {b}\n  block_public_policy     = {b}\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(40) {
                    writeln!(s, "resource \"aws_s3_bucket_logging\" \"{name}\" {{\n  bucket        = aws_s3_bucket.{name}.id\n  target_bucket = \"acme-central-logs\"\n  target_prefix = \"{name}/\"\n}}\n").unwrap();
                    resources += 1;
                }
            }
            // A security group with a few ingress rules, sometimes open to the world.
            2 => {
                let mut ingress = String::new();
                for _ in 0..1 + rng.below(3) {
                    let port = [22, 443, 3389, 5432, 8080][rng.below(5) as usize];
                    let cidr = if rng.chance(20) { "0.0.0.0/0" } else { "10.0.0.0/8" };
                    write!(ingress, "\n  ingress {{\n    from_port   = {port}\n    to_port     = {port}\n    protocol    = \"tcp\"\n    cidr_blocks = [\"{cidr}\"]\n  }}\n").unwrap();
                }
                writeln!(s, "resource \"aws_security_group\" \"{name}\" {{\n  name   = \"${{local.prefix_{index}}}-{n}\"\n  vpc_id = \"vpc-123456\"\n{ingress}\n  egress {{\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n\n  tags = local.tags_{index}\n}}\n").unwrap();
                resources += 1;
            }
            // An RDS instance.
            3 => {
                let enc = rng.chance(80);
                let public = rng.chance(10);
                writeln!(s, "resource \"aws_db_instance\" \"{name}\" {{\n  identifier          = \"${{local.prefix_{index}}}-{n}\"\n  engine              = \"postgres\"\n  engine_version      = \"15.4\"\n  instance_class      = \"db.t3.medium\"\n  allocated_storage   = 50\n  storage_encrypted   = {enc}\n  kms_key_id          = var.kms_key_{index}\n  publicly_accessible = {public}\n  username            = \"app\"\n  manage_master_user_password = true\n  tags = local.tags_{index}\n}}\n").unwrap();
                resources += 1;
            }
            // An EBS volume.
            4 => {
                let enc = rng.chance(75);
                writeln!(s, "resource \"aws_ebs_volume\" \"{name}\" {{\n  availability_zone = \"eu-west-1a\"\n  size              = {}\n  encrypted         = {enc}\n  tags = merge(local.tags_{index}, {{ Name = \"{name}\" }})\n}}\n", 20 + rng.below(200)).unwrap();
                resources += 1;
            }
            // An IAM policy through jsonencode, sometimes admin.
            _ => {
                let (action, resource) = if rng.chance(15) {
                    ("*", "*".to_string())
                } else {
                    ("s3:GetObject", format!("arn:aws:s3:::acme-{team}-{n}/*"))
                };
                writeln!(s, "resource \"aws_iam_policy\" \"{name}\" {{\n  name = \"${{local.prefix_{index}}}-{n}\"\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [\n      {{\n        Effect   = \"Allow\"\n        Action   = [\"{action}\"]\n        Resource = \"{resource}\"\n      }}\n    ]\n  }})\n}}\n").unwrap();
                resources += 1;
            }
        }
    }
    (s, resources)
}

/// Writes the workload into `dir`: `files` Terraform files in a few module-like folders.
/// Returns how many managed resources it generated.
pub fn write(dir: &Path, files: usize) -> std::io::Result<usize> {
    let mut rng = Rng::new(SEED);
    let mut total = 0;
    for i in 0..files {
        let (text, n) = terraform_file(i, &mut rng);
        let folder = dir.join(["network", "storage", "data", "iam", "app"][i % 5]);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("file_{i:03}.tf")), text)?;
        total += n;
    }
    Ok(total)
}
