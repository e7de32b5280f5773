//! CloudFormation templates (YAML and JSON, short-form intrinsic tags).
//!
//! Each entry of the template's `Resources` map with a `Type` becomes a resource
//! `TYPE.LogicalId`; its `config` is the entry's `Properties`. Short-form tags (`!Ref X`,
//! `!GetAtt A.B`, `!Sub ...`) are turned into their long forms (`{"Ref": "X"}`, ...), then
//! values are resolved against the template's parameter defaults, mappings and conditions as
//! far as they are known (see [`resolve`]); `input.files` keeps the document as written.

mod foreach;
mod nested;
mod resolve;

pub use nested::absent_templates;

use super::yaml::{self, contains, Node, Tags};
use super::{has_ext, ParseError, Parsed, Parser};
use crate::{
    files::SourceFile,
    workload::{Resource, ResourceKind},
};
use resolve::{Template, Truth};

pub struct CloudFormation;

const EXTENSIONS: &[&str] = &[".yaml", ".yml", ".json", ".template"];

impl Parser for CloudFormation {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Cloudformation
    }

    fn claims(&self, path: &str, bytes: &[u8]) -> bool {
        EXTENSIONS.iter().any(|e| has_ext(path, e)) && looks_like_template(bytes)
    }

    fn parse(&self, files: &[&SourceFile]) -> Parsed {
        super::parse_each(files, parse_file)
    }
    fn per_file(&self) -> bool {
        true
    }
}

/// A cheap look at the bytes: a top-level `AWSTemplateFormatVersion` key, or a top-level
/// `Resources` key together with a `Type: AWS::...` line. In YAML the keys must sit at the
/// document's top-level indentation (that of its first key: column 0 usually, but a template
/// indented as a whole is valid YAML and CloudFormation deploys it), so that a template
/// embedded in, say, a Kubernetes ConfigMap is not taken for one; a JSON document (first byte
/// `{`, possibly minified onto one line) only needs the quoted keys.
fn looks_like_template(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.trim_ascii_start().starts_with(b"{") {
        return contains(bytes, b"\"AWSTemplateFormatVersion\"")
            || (contains(bytes, b"\"Resources\"") && contains(bytes, b"\"Type\"") && contains(bytes, b"\"AWS::"));
    }
    let (mut version, mut resources, mut aws_type) = (false, false, false);
    let mut top_indent = None;
    for line in bytes.split(|b| *b == b'\n') {
        let trimmed = line.trim_ascii_start();
        let skip = [&b"#"[..], b"---", b"...", b"%"];
        if trimmed.trim_ascii_end().is_empty() || skip.iter().any(|s| trimmed.starts_with(s)) {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let top_level = *top_indent.get_or_insert(indent) == indent;
        let key = |k: &[u8]| top_level && trimmed.starts_with(k);
        version |= key(b"AWSTemplateFormatVersion")
            || key(b"\"AWSTemplateFormatVersion\"")
            || key(b"'AWSTemplateFormatVersion'");
        resources |= key(b"Resources:") || key(b"\"Resources\"") || key(b"'Resources'");
        aws_type |= (trimmed.starts_with(b"Type:") || trimmed.starts_with(b"\"Type\"")) && contains(line, b"AWS::");
        if version || (resources && aws_type) {
            return true;
        }
    }
    false
}

/// Whether the text is a JSON document (`.json`, or a `.template` that starts with `{`).
pub(super) fn is_json(path: &str, text: &str) -> bool {
    has_ext(path, ".json") || (!has_ext(path, ".yaml") && !has_ext(path, ".yml") && text.trim_start().starts_with('{'))
}

fn parse_file(file: &SourceFile) -> Result<super::FileResult, ParseError> {
    let text = yaml::strip_bom(file.text()?);
    let err = |e: yaml::Error| ParseError::new(&file.path, e.line, e.message);
    let root = yaml::guarded(|| {
        if is_json(&file.path, text) {
            yaml::parse_json(text, yaml::DuplicateKeys::LastWins).map(Some)
        } else {
            // A template is one document; anything after a second `---` is ignored.
            yaml::parse_yaml(text, yaml::DuplicateKeys::LastWins).map(|docs| docs.into_iter().next())
        }
    })
    .map_err(err)?;
    let Some(root) = root else {
        return Ok((serde_json::Value::Null, Vec::new(), Vec::new()));
    };
    // The raw document stays as written (for Conftest-style rules); resources' config is
    // resolved against its parameters, mappings and conditions.
    let document = yaml::to_json(&root, Tags::CloudFormation);
    let resources = resources(&file.path, &root, &Template::new(&document))?;
    Ok((document, resources, macros(&file.path, &root)))
}

/// Transforms that CloudFormation applies as AWS documents them, whose result Railyard reads
/// from the template as written: SAM's resource types are judged as they are (their expansion
/// is fixed), `AWS::LanguageExtensions` loops are expanded here, the others add resources of
/// their own (rotation functions, deployment hooks).
const KNOWN_TRANSFORMS: &[&str] = &[
    "AWS::Serverless-2016-10-31",
    "AWS::LanguageExtensions",
    "AWS::SecretsManager-2020-07-23",
    "AWS::CodeDeployBlueGreen",
    "AWS::CodeStar",
];

/// A template's `Transform` macros other than AWS's own, as skipped code: a macro is a Lambda
/// function that may rewrite any part of the template when it is deployed (add resources,
/// build IAM policies, call APIs). The resources as written are still judged; the
/// CloudFormation guardrails just cannot call the workload compliant. (`Fn::Transform` in a
/// property is an intrinsic like any other, an unknown value where it stands; in `Resources`
/// it is an error, see [`foreach`].)
fn macros(path: &str, root: &Node) -> Vec<crate::files::Skipped> {
    let Some(transform) = root.get("Transform") else {
        return Vec::new();
    };
    // One name, or a list of them; each where it is written.
    let names: Vec<&Node> = match transform.items() {
        Some(items) => items.iter().collect(),
        None => vec![transform],
    };
    names
        .into_iter()
        .filter_map(|n| Some((n.as_str()?, n.line)))
        .filter(|(name, _)| !KNOWN_TRANSFORMS.contains(name))
        .map(|(name, line)| crate::files::Skipped {
            path: format!("{path}:{line}"),
            reason: format!(
                "CloudFormation macro `{name}` rewrites the template when it is deployed: what it deploys is not known here"
            ),
            kind: Some(ResourceKind::Cloudformation),
        })
        .collect()
}

/// The template's resources. A `Resources` that is not a mapping, or an entry without a
/// `Type`, is an error (CloudFormation refuses such a template): never a silent empty list.
/// A resource whose `Condition` is false with the parameter defaults does not exist and is
/// left out; one whose condition is unknown is kept.
fn resources(path: &str, root: &Node, template: &Template) -> Result<Vec<Resource>, ParseError> {
    let Some(section) = root.get("Resources") else {
        return Ok(Vec::new());
    };
    let Some(entries) = section.entries() else {
        return Err(ParseError::new(
            path,
            section.line,
            "`Resources` must be a mapping of logical ids to resources",
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for foreach::Entry {
        logical_id,
        value,
        line,
        bindings,
    } in foreach::expand(path, entries, template)?
    {
        let Some(r#type) = value.get("Type").and_then(Node::as_str) else {
            let message = match value.get("Type").and_then(|t| t.get("Rain::Module")) {
                // A Rain module (`Type: {Rain::Module: file}`) is expanded by `rain pkg`, which
                // Railyard does not run: what the module makes is not known here.
                Some(module) => format!(
                    "resource `{logical_id}` is a Rain module (`{}`), which `rain pkg` expands before deploying: check the packaged template, or --exclude this one",
                    module.as_str().unwrap_or("?")
                ),
                None => format!("resource `{logical_id}` has no `Type` (a string such as AWS::S3::Bucket)"),
            };
            return Err(ParseError::new(path, line, message));
        };
        if let Some(condition) = value.get("Condition").and_then(Node::as_str) {
            if template.condition(condition) == Truth::False {
                continue;
            }
        }
        let config = match value.get("Properties") {
            Some(p) if !p.is_null() => {
                let written = foreach::substitute(&yaml::to_json(p, Tags::CloudFormation), &bindings);
                let expanded = foreach::expand_properties(&written, template)
                    .map_err(|loop_name| ParseError::new(path, p.line, foreach::unknown_property_loop(&loop_name)))?;
                template.resolve(&expanded).unwrap_or_else(|| serde_json::json!({}))
            }
            _ => serde_json::json!({}),
        };
        out.push(Resource {
            refs: Vec::new(),
            referenced_by: Vec::new(),
            referenced_by_index: Vec::new(),
            root: None,
            tags: None,
            id: String::new(),
            address: format!("{type}.{logical_id}", type = r#type),
            r#type: r#type.to_string(),
            name: logical_id.to_string(),
            kind: ResourceKind::Cloudformation,
            mode: "managed".into(),
            file: path.to_string(),
            line,
            end_line: value.end_line.max(line),
            config,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(path: &str, text: &str) -> Parsed {
        let f = SourceFile::new(path, text);
        assert!(CloudFormation.claims(path, text.as_bytes()), "not claimed: {path}");
        CloudFormation.parse(&[&f])
    }

    fn props(text: &str) -> serde_json::Value {
        let p = parse("t.yaml", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        p.resources[0].config.clone()
    }

    #[test]
    fn claims_templates_only() {
        let yaml = b"AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n";
        assert!(CloudFormation.claims("a.yaml", yaml));
        assert!(CloudFormation.claims("a.template", yaml));
        assert!(!CloudFormation.claims("a.txt", yaml));
        assert!(CloudFormation.claims("a.yml", b"Resources:\n  B:\n    Type: AWS::S3::Bucket\n"));
        assert!(CloudFormation.claims(
            "a.json",
            b"{\n  \"Resources\": {\"B\": {\n    \"Type\": \"AWS::S3::Bucket\"}}}"
        ));
        assert!(!CloudFormation.claims("a.yaml", b"apiVersion: v1\nkind: ConfigMap\n"));
        // A template embedded in a ConfigMap is not a template.
        let cm = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  t: |\n    AWSTemplateFormatVersion: x\n    Resources:\n      B:\n        Type: AWS::S3::Bucket\n";
        assert!(!CloudFormation.claims("cm.yaml", cm));
        // Indented as a whole (valid YAML, deployed by CloudFormation), after comments and a
        // document marker; CRLF line endings.
        assert!(CloudFormation.claims(
            "i.yaml",
            b"# stack\n---\n  AWSTemplateFormatVersion: x\n  Resources: {}\n"
        ));
        assert!(CloudFormation.claims(
            "i.yaml",
            b"    Resources:\r\n      B:\r\n        Type: AWS::S3::Bucket\r\n"
        ));
        // Keys deeper than the document's first key are not top-level.
        assert!(!CloudFormation.claims("i.yaml", b"  kind: x\n  data:\n    AWSTemplateFormatVersion: x\n"));
        // Minified JSON.
        assert!(CloudFormation.claims("m.json", br#"{"Resources":{"B":{"Type":"AWS::S3::Bucket"}}}"#));
        assert!(!CloudFormation.claims("m.json", br#"{"Resources":{"B":{"Type":"Custom"}}}"#));
    }

    #[test]
    fn every_short_form_tag() {
        let text = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  R:
    Type: AWS::Test::Thing
    Properties:
      Ref: !Ref Param
      GetAtt: !GetAtt Role.Arn
      GetAttNested: !GetAtt Db.Endpoint.Address
      GetAttList: !GetAtt [Role, Arn]
      Sub: !Sub "${AWS::StackName}-logs"
      SubList: !Sub ["${A}-x", {A: !Ref B}]
      If: !If [IsProd, 1, !Ref "AWS::NoValue"]
      Join: !Join [",", [a, b]]
      Select: !Select [0, !GetAZs ""]
      Split: !Split [",", "a,b"]
      Equals: !Equals [!Ref Env, prod]
      And: !And [!Condition A, !Condition B]
      Or: !Or [!Condition A, !Not [!Condition B]]
      FindInMap: !FindInMap [Map, !Ref "AWS::Region", Ami]
      GetAZs: !GetAZs
      Base64: !Base64 "hello"
      ImportValue: !ImportValue shared-vpc
      Cidr: !Cidr [!GetAtt Vpc.CidrBlock, 6, 8]
      Transform: !Transform {Name: AWS::Include, Parameters: {Location: s3://x}}
      Condition: !Condition IsProd
"#;
        // The document as written (resources' config is resolved, see `resolve`).
        let parsed = parse("t.yaml", text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let p = &parsed.documents["t.yaml"]["Resources"]["R"]["Properties"];
        assert_eq!(p["Ref"], json!({"Ref": "Param"}));
        assert_eq!(p["GetAtt"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(p["GetAttNested"], json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]}));
        assert_eq!(p["GetAttList"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(p["Sub"], json!({"Fn::Sub": "${AWS::StackName}-logs"}));
        assert_eq!(p["SubList"], json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}));
        assert_eq!(p["If"], json!({"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}));
        assert_eq!(p["Join"], json!({"Fn::Join": [",", ["a", "b"]]}));
        assert_eq!(p["Select"], json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}));
        assert_eq!(p["Split"], json!({"Fn::Split": [",", "a,b"]}));
        assert_eq!(p["Equals"], json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]}));
        assert_eq!(p["And"], json!({"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}));
        assert_eq!(
            p["Or"],
            json!({"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "B"}]}]})
        );
        assert_eq!(
            p["FindInMap"],
            json!({"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Ami"]})
        );
        assert_eq!(p["GetAZs"], json!({"Fn::GetAZs": ""}));
        assert_eq!(p["Base64"], json!({"Fn::Base64": "hello"}));
        assert_eq!(p["ImportValue"], json!({"Fn::ImportValue": "shared-vpc"}));
        assert_eq!(
            p["Cidr"],
            json!({"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 6, 8]})
        );
        assert_eq!(
            p["Transform"],
            json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://x"}}})
        );
        assert_eq!(p["Condition"], json!({"Condition": "IsProd"}));
    }

    #[test]
    fn scalars_keep_their_types() {
        let text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: true\n      B: \"true\"\n      C: 3\n      D: '3'\n      E: 1.5\n";
        assert_eq!(props(text), json!({"A": true, "B": "true", "C": 3, "D": "3", "E": 1.5}));
    }

    #[test]
    fn lines_of_several_resources() {
        let text = "\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env: {Type: String}
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: logs

  Queue:
    Type: AWS::SQS::Queue
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: t}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policy: |
        line one
        line two

Outputs:
  X: {Value: !Ref Logs}
";
        let p = parse("t.yaml", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("AWS::S3::Bucket.Logs", 5, 8),
                ("AWS::SQS::Queue.Queue", 10, 11),
                ("AWS::SNS::Topic.Topic", 12, 12),
                ("AWS::IAM::Role.Role", 13, 18),
            ]
        );
        let r = &p.resources[1];
        assert_eq!(
            (r.name.as_str(), r.r#type.as_str(), r.mode.as_str()),
            ("Queue", "AWS::SQS::Queue", "managed")
        );
        assert_eq!(r.kind, ResourceKind::Cloudformation);
        assert_eq!(r.config, json!({}));
        assert_eq!(p.documents["t.yaml"]["Outputs"]["X"]["Value"], json!({"Ref": "Logs"}));
    }

    #[test]
    fn json_template() {
        let text = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Logs": {
      "Type": "AWS::S3::Bucket",
      "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-logs"}, "Versioning": true}
    },
    "Queue": {
	"Type": "AWS::SQS::Queue"
    }
  }
}
"#;
        let p = parse("t.json", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![("AWS::S3::Bucket.Logs", 4, 7), ("AWS::SQS::Queue.Queue", 8, 10)]
        );
        assert_eq!(
            p.resources[0].config,
            json!({"BucketName": {"Fn::Sub": "${AWS::StackName}-logs"}, "Versioning": true})
        );
        assert_eq!(p.documents["t.json"]["AWSTemplateFormatVersion"], json!("2010-09-09"));
    }

    #[test]
    fn yaml_syntax_error_has_its_line() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {a: [1, 2}\n";
        let p = parse("t.yaml", text);
        assert!(p.resources.is_empty());
        assert_eq!(p.errors.len(), 1);
        assert_eq!((p.errors[0].file.as_str(), p.errors[0].line), ("t.yaml", 5));
    }

    #[test]
    fn json_syntax_error_has_its_line() {
        let text = "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {\n    \"B\": {\"Type\": \"AWS::S3::Bucket\",}\n  }\n}\n";
        let p = parse("t.json", text);
        assert!(p.resources.is_empty());
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].line, 4);
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let p = parse(
            "t.json",
            "\u{feff}{\"AWSTemplateFormatVersion\": \"x\",\n \"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            (p.resources[0].address.as_str(), p.resources[0].line),
            ("AWS::S3::Bucket.B", 2)
        );
        let p = parse(
            "t.yaml",
            "\u{feff}AWSTemplateFormatVersion: x\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
        );
        assert_eq!(
            (p.resources[0].address.as_str(), p.resources[0].line),
            ("AWS::S3::Bucket.B", 3)
        );
    }

    /// `Fn::ForEach` (AWS::LanguageExtensions): one resource per item, ids and values
    /// substituted, nested loops, a parameter's list; never silently dropped.
    #[test]
    fn foreach_loops_make_their_resources() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\nParameters:\n  Envs:\n    Type: CommaDelimitedList\n    Default: dev, prod\nResources:\n  Fn::ForEach::Buckets:\n    - Name\n    - [logs, data-lake]\n    - 'Bucket&{Name}':\n        Type: AWS::S3::Bucket\n        Properties:\n          BucketName: !Sub '${Name}-bucket'\n          Tags:\n            - Key: name\n              Value: !Ref Name\n      Fn::ForEach::Queues:\n        - Env\n        - !Ref Envs\n        - 'Queue${Env}${Name}':\n            Type: AWS::SQS::Queue\n            Properties:\n              QueueName: !Sub '${Name}-${Env}'\n  Plain:\n    Type: AWS::SNS::Topic\n    Properties:\n      Fn::ForEach::Props:\n        - P\n        - [A, B]\n        - 'Display${P}': !Ref P\n";
        let p = parse("t.yaml", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<(String, usize, serde_json::Value)> = p
            .resources
            .iter()
            .map(|r| (r.address.clone(), r.line, r.config.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "AWS::S3::Bucket.Bucketlogs".into(),
                    11,
                    json!({"BucketName": "logs-bucket", "Tags": [{"Key": "name", "Value": "logs"}]})
                ),
                (
                    "AWS::SQS::Queue.Queuedevlogs".into(),
                    21,
                    json!({"QueueName": "logs-dev"})
                ),
                (
                    "AWS::SQS::Queue.Queueprodlogs".into(),
                    21,
                    json!({"QueueName": "logs-prod"})
                ),
                (
                    "AWS::S3::Bucket.Bucketdatalake".into(),
                    11,
                    json!({"BucketName": "data-lake-bucket", "Tags": [{"Key": "name", "Value": "data-lake"}]})
                ),
                (
                    "AWS::SQS::Queue.Queuedevdata-lake".into(),
                    21,
                    json!({"QueueName": "data-lake-dev"})
                ),
                (
                    "AWS::SQS::Queue.Queueproddata-lake".into(),
                    21,
                    json!({"QueueName": "data-lake-prod"})
                ),
                (
                    "AWS::SNS::Topic.Plain".into(),
                    25,
                    json!({"DisplayA": "A", "DisplayB": "B"})
                ),
            ]
        );
    }

    #[test]
    fn unknown_loops_and_rain_modules_are_errors_naming_the_line() {
        let unknown = "Transform: AWS::LanguageExtensions\nParameters:\n  Names:\n    Type: CommaDelimitedList\nResources:\n  Ok:\n    Type: AWS::S3::Bucket\n  Fn::ForEach::Buckets:\n    - Name\n    - !Ref Names\n    - '${Name}':\n        Type: AWS::S3::Bucket\n";
        let p = parse("t.yaml", unknown);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(p.errors[0].line, 8);
        assert!(
            p.errors[0]
                .message
                .contains("`Fn::ForEach::Buckets`: its collection is not known"),
            "{:?}",
            p.errors
        );
        let malformed = "Resources:\n  Fn::ForEach::B:\n    - Name\n    - [a]\n  X:\n    Type: AWS::S3::Bucket\n";
        assert!(parse("t.yaml", malformed).errors[0]
            .message
            .contains("must be a list of an identifier"));
        let property = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Fn::ForEach::P:\n        - P\n        - !GetAtt X.List\n        - 'D${P}': x\n";
        let p = parse("t.yaml", property);
        assert_eq!(
            (p.errors[0].line, p.errors[0].message.contains("in the properties")),
            (5, true),
            "{:?}",
            p.errors
        );
        let rain = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Storage:\n    Type:\n      Rain::Module: ../modules/bucket.yml\n    Properties:\n      AppName: x\n";
        let p = parse("t.yaml", rain);
        assert_eq!(p.errors[0].line, 3);
        assert!(
            p.errors[0].message.contains("Rain module (`../modules/bucket.yml`)"),
            "{:?}",
            p.errors
        );
    }

    /// A macro other than AWS's own is skipped code naming the line; SAM is not, and
    /// `Fn::Transform` in a property is an unknown value there; in `Resources`, an error.
    #[test]
    fn macros_are_skipped_with_their_line() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: [AWS::Serverless-2016-10-31, ExecutionRoleBuilder]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        Fn::Transform:\n          Name: AWS::Include\n          Parameters: {Location: s3://x/tags.yaml}\n";
        let p = parse("t.yaml", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.resources.len(), 1, "the resources as written are still read");
        assert_eq!(
            p.resources[0].config["Tags"]["Fn::Transform"]["Name"],
            json!("AWS::Include")
        );
        let skipped: Vec<(&str, &str)> = p.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0].0, "t.yaml:2");
        assert!(skipped[0].1.contains("macro `ExecutionRoleBuilder`"), "{skipped:?}");
        assert_eq!(p.skipped[0].kind, Some(ResourceKind::Cloudformation));
        // In a block list, each macro at its own line (a comment naming `Transform` before it
        // is not the line).
        let listed = "AWSTemplateFormatVersion: '2010-09-09'\n# Transform: none\nTransform:\n  - AWS::Serverless-2016-10-31\n  - PyPlate\nResources:\n  B:\n    Type: AWS::S3::Bucket\n";
        let p = parse("t.yaml", listed);
        assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
        assert_eq!(p.skipped[0].path, "t.yaml:5");
        let sam = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n";
        assert!(parse("t.yaml", sam).skipped.is_empty());
        let included = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n  Fn::Transform:\n    Name: AWS::Include\n    Parameters: {Location: s3://x/more.yaml}\n";
        let p = parse("t.yaml", included);
        assert_eq!(p.errors[0].line, 5, "{:?}", p.errors);
        assert!(
            p.errors[0].message.contains("`Fn::Transform` in `Resources`"),
            "{:?}",
            p.errors
        );
    }

    #[test]
    fn claimed_file_without_resources_is_empty() {
        let p = parse(
            "t.yaml",
            "AWSTemplateFormatVersion: '2010-09-09'\nDescription: nothing\n",
        );
        assert!(p.resources.is_empty() && p.errors.is_empty());
        // CloudFormation refuses these: an error, never a silent empty template.
        let p = parse("t.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: [1, 2]\n");
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 2), "{:?}", p.errors);
        let p = parse(
            "t.yaml",
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n    Type: AWS::S3::Bucket\n  B:\n    Properties: {}\n",
        );
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 5), "{:?}", p.errors);
        assert!(p.errors[0].message.contains("`B` has no `Type`"), "{:?}", p.errors);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let mut bomb = String::from("AWSTemplateFormatVersion: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = format!("*a{}", i - 1);
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![p; 10].join(", ")));
        }
        assert_eq!(parse("b.yaml", &bomb).errors.len(), 1);
        let deep = format!("AWSTemplateFormatVersion: x\nResources: {}", "[".repeat(50_000));
        assert_eq!(parse("d.yaml", &deep).errors.len(), 1);
        let f = SourceFile::new(
            "u.yaml",
            b"AWSTemplateFormatVersion: x\nResources:\n  \xff\xfe: 1\n".to_vec(),
        );
        let p = CloudFormation.parse(&[&f]);
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 3));
    }

    #[test]
    fn fixtures_through_parse_files() {
        let p = crate::workload::parser::parse_fixture_dir("cloudformation");
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.file.as_str(), r.address.as_str(), r.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("queue-worker.template", "AWS::SQS::Queue.DeadLetterQueue", 5),
                ("queue-worker.template", "AWS::SQS::Queue.WorkQueue", 12),
                ("queue-worker.template", "AWS::IAM::Role.WorkerRole", 22),
                ("sam-function.yml", "AWS::Serverless::Function.Function", 3),
                ("sam-function.yml", "AWS::DynamoDB::Table.Table", 14),
                ("static-site.yaml", "AWS::S3::Bucket.LogsBucket", 16),
                ("static-site.yaml", "AWS::S3::Bucket.SiteBucket", 30),
                ("static-site.yaml", "AWS::S3::BucketPolicy.SiteBucketPolicy", 44),
                ("static-site.yaml", "AWS::CloudFront::Distribution.Distribution", 60),
            ]
        );
        assert!(p
            .resources
            .iter()
            .all(|r| r.kind == ResourceKind::Cloudformation && r.end_line > r.line));
        let site = p.resources.iter().find(|r| r.name == "SiteBucket").unwrap();
        assert_eq!(site.end_line, 42);
        assert_eq!(
            site.config["LoggingConfiguration"]["DestinationBucketName"],
            json!({"Ref": "LogsBucket"})
        );
        // `!If [IsProd, Enabled, Suspended]` with `Environment` defaulting to dev.
        assert_eq!(site.config["VersioningConfiguration"]["Status"], json!("Suspended"));
        assert_eq!(
            p.documents["static-site.yaml"]["Resources"]["SiteBucket"]["Properties"]["VersioningConfiguration"]
                ["Status"],
            json!({"Fn::If": ["IsProd", "Enabled", "Suspended"]})
        );
        let dist = p.resources.iter().find(|r| r.name == "Distribution").unwrap();
        assert_eq!(dist.end_line, 75);
        assert_eq!(
            dist.config["DistributionConfig"]["Origins"][0]["DomainName"],
            json!({"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]})
        );
        assert_eq!(
            p.documents.keys().collect::<Vec<_>>(),
            ["queue-worker.template", "sam-function.yml", "static-site.yaml"]
        );
    }
}
