//! The TOML layer: `config.toml` text in and out, and `--set key=value` overrides.

use super::error::ConfigError;
use super::run::RunConfig;

impl RunConfig {
    /// Parses a `config.toml` text. Unknown keys are errors, missing keys take defaults. An
    /// error names the field (`student.epochs`), its line and column, and what was expected.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| parse_error(text, None, &e))?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            parse_error(text, Some(field), e.inner())
        })
    }

    /// Serialises to the `config.toml` text written to run folders. A teacher file inside the
    /// bundled assets is written as `@assets/<file>`, so the config reruns on another machine.
    pub fn to_toml(&self) -> String {
        let mut portable = self.clone();
        portable.teacher.weights = self.teacher.weights.as_deref().map(crate::assets::portable);
        toml::to_string_pretty(&portable)
            .unwrap_or_else(|e| format!("# could not serialise: {e}\n"))
    }

    /// Applies one `key=value` override, e.g. `distill.temperature=8` or
    /// `student.hidden=[30,30]`. The value is read as TOML, or as a string if that fails.
    ///
    /// Any field can be set, an unset optional one (`data.train_limit`, absent from the
    /// serialised tree) included: the key is placed in the tree and deserialising the tree
    /// decides whether the configuration has it, so there is no list of keys to keep.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (key, raw) = assignment
            .split_once('=')
            .ok_or_else(|| ConfigError::BadAssignment(assignment.to_owned()))?;
        let key = key.trim();
        let raw = raw.trim();
        let mut root = toml::Value::try_from(&*self).map_err(|e| ConfigError::Parse {
            field: None,
            position: None,
            problem: e.to_string(),
        })?;
        let created = set_path(&mut root, key, parse_toml_value(raw))?;
        // The error names the deepest field that failed (`student.optim.lr` for
        // `--set student.optim={lr="x"}`), and at least the key that was set.
        let updated: RunConfig = serde_path_to_error::deserialize(root).map_err(|e| {
            let path = e.path().to_string();
            // Refused where the key's new part was placed: not a field of its section, or
            // (`teacher.weights.x`) a field that holds no table to put `x` in.
            if created.as_deref() == Some(path.as_str())
                && (path != key || is_unknown_field(e.inner()))
            {
                return ConfigError::UnknownKey(key.to_owned());
            }
            let field = if path.is_empty() || path == "." {
                key.to_owned()
            } else {
                path
            };
            ConfigError::Invalid {
                field,
                problem: friendly_problem(e.inner().message()),
            }
        })?;
        *self = updated;
        Ok(())
    }
}

/// Whether `error` is serde's `unknown field` (every section denies unknown fields).
fn is_unknown_field(error: &toml::de::Error) -> bool {
    error.message().starts_with("unknown field")
}

/// A [`ConfigError::Parse`] for a TOML error in `text`, at the error's span when it has one.
fn parse_error(text: &str, field: Option<String>, error: &toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        field: field.filter(|f| !f.is_empty() && f != "."),
        position: error.span().map(|span| line_and_column(text, span.start)),
        problem: friendly_problem(error.message()),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// serde's message with Rust type names replaced by what a user types, e.g.
/// `invalid type: string "ten", expected usize` → `… expected a whole number ≥ 0`.
fn friendly_problem(message: &str) -> String {
    const NAMES: [(&str, &str); 5] = [
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u8", "expected a whole number 0–255"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ];
    let message = message.trim_end();
    NAMES
        .iter()
        .find_map(|(rust, user)| {
            message
                .strip_suffix(rust)
                .map(|head| format!("{head}{user}"))
        })
        .unwrap_or_else(|| message.to_owned())
}

fn parse_toml_value(raw: &str) -> toml::Value {
    let wrapped = format!("v = {raw}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Sets `root[a][b][c] = value` for the key `a.b.c`, creating what is missing: an unset
/// optional field is absent from the serialised tree. Returns the dotted path of the first
/// part it created (`data.train_limit`, or `data.bogus` for `data.bogus.x`), if any, for the
/// caller to blame an unknown field on the key; a part that exists but is not a table (`name`
/// in `name.x`) is an unknown key at once.
fn set_path(
    root: &mut toml::Value,
    key: &str,
    value: toml::Value,
) -> Result<Option<String>, ConfigError> {
    let unknown = || ConfigError::UnknownKey(key.to_owned());
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(unknown());
    }
    let (last, parents) = parts.split_last().ok_or_else(unknown)?;
    let mut created = None;
    let mut node = root.as_table_mut().ok_or_else(unknown)?;
    for (depth, part) in parents.iter().enumerate() {
        if !node.contains_key(*part) {
            created.get_or_insert_with(|| parts[..=depth].join("."));
        }
        node = node
            .entry(*part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(unknown)?;
    }
    if created.is_none() && !node.contains_key(*last) {
        created = Some(key.to_owned());
    }
    node.insert((*last).to_owned(), value);
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::data::DataSource;
    use crate::config::distill::Method;

    #[test]
    fn default_config_is_valid_and_round_trips() {
        let config = RunConfig::default();
        config.validate().unwrap();
        let back = RunConfig::from_toml(&config.to_toml()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn set_changes_nested_fields_and_rejects_unknown_keys() {
        let mut config = RunConfig::default();
        config.set("distill.temperature=8").unwrap();
        assert_eq!(config.distill.temperature, 8.0);
        config.set("student.hidden=[30, 30]").unwrap();
        assert_eq!(config.student.hidden, vec![30, 30]);
        config.set("distill.method=logit-l2").unwrap();
        assert_eq!(config.distill.method, Method::LogitL2);
        config.set("data.train_limit=1000").unwrap();
        assert_eq!(config.data.train_limit, Some(1000));
        config.set("name=hello").unwrap();
        assert_eq!(config.name, "hello");
        assert_eq!(
            config.set("distill.temprature=8"),
            Err(ConfigError::UnknownKey("distill.temprature".into()))
        );
        assert!(matches!(
            config.set("distill.method=bogus"),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            config.set("novalue"),
            Err(ConfigError::BadAssignment(_))
        ));
    }

    #[test]
    fn parse_errors_name_the_field_line_and_column() {
        let text = "name = \"x\"\n\n[student]\nhidden = [30]\nepochs = \"ten\"\n";
        let err = RunConfig::from_toml(text).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Parse {
                field: Some("student.epochs".into()),
                position: Some((5, 10)),
                problem: "invalid type: string \"ten\", expected a whole number ≥ 0".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "line 5, column 10: student.epochs: invalid type: string \"ten\", expected a whole \
             number ≥ 0"
        );
        // Nested tables, unknown keys and TOML syntax errors are placed too.
        let err = RunConfig::from_toml("[teacher.optim]\nlr = true\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2, column 6: teacher.optim.lr: invalid type: boolean"),
            "{err}"
        );
        assert!(err.to_string().ends_with("expected a number"), "{err}");
        let err = RunConfig::from_toml("[distill]\ntemprature = 4\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("line 2, column 1: distill.temprature: unknown field `temprature`"),
            "{text}"
        );
        let err = RunConfig::from_toml("seed = 1\nname = \"unclosed\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2, column "), "{err}");
    }

    #[test]
    fn set_errors_name_the_key() {
        let mut config = RunConfig::default();
        let err = config.set("student.epochs=ten").unwrap_err();
        assert_eq!(
            err.to_string(),
            "student.epochs: invalid type: string \"ten\", expected a whole number ≥ 0"
        );
        let err = config.set("student.optim={lr = \"fast\"}").unwrap_err();
        assert!(err.to_string().starts_with("student.optim.lr: "), "{err}");
        assert_eq!(
            config,
            RunConfig::default(),
            "a failed --set changes nothing"
        );
    }

    /// The `--set` path of every `Option` field that is unset in `value` (a JSON tree, where
    /// an unset option is `null`, unlike TOML, which leaves it out).
    fn unset_options(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Null => out.push(path.to_owned()),
            serde_json::Value::Object(fields) => {
                for (name, field) in fields {
                    let path = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    unset_options(field, &path, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_optional_field_can_be_set() {
        let mut keys = Vec::new();
        unset_options(
            &serde_json::to_value(RunConfig::default()).unwrap(),
            "",
            &mut keys,
        );
        for known in [
            "data.dir",
            "data.train_limit",
            "data.test_limit",
            "data.validation",
            "teacher.weights",
            "transfer.limit",
        ] {
            assert!(
                keys.iter().any(|k| k == known),
                "{known} not found in {keys:?}"
            );
        }
        for key in &keys {
            // A count or a path: whichever the field holds.
            let mut config = RunConfig::default();
            let set = config
                .set(&format!("{key}=7"))
                .or_else(|_| config.set(&format!("{key}=\"some/file\"")));
            assert_eq!(set, Ok(()), "--set {key}");
            let mut still_unset = Vec::new();
            unset_options(
                &serde_json::to_value(&config).unwrap(),
                "",
                &mut still_unset,
            );
            assert!(!still_unset.contains(key), "--set {key} left it unset");
        }
    }

    #[test]
    fn misspelt_keys_are_refused_by_name() {
        let mut config = RunConfig::default();
        for key in [
            "data.train_limt",
            "data.bogus.x",
            "bogus",
            "teacher.weights.x",
            "name.x",
            "data..dir",
            "",
        ] {
            let err = config.set(&format!("{key}=7")).unwrap_err();
            assert_eq!(err, ConfigError::UnknownKey(key.into()), "--set {key}");
            assert_eq!(err.to_string(), format!("unknown key `{key}`"));
        }
        assert_eq!(
            config,
            RunConfig::default(),
            "a refused --set changes nothing"
        );
    }

    /// The `--set` path of every table (section) of `value`, `""` for the root.
    fn sections(value: &toml::Value, path: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(fields) = value {
            out.push(path.to_owned());
            for (name, field) in fields {
                let path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                sections(field, &path, out);
            }
        }
    }

    #[test]
    fn every_section_refuses_a_key_it_does_not_have() {
        // What makes a misspelt `--set` key an error: each struct denies unknown fields.
        let mut found = Vec::new();
        sections(
            &toml::Value::try_from(RunConfig::default()).unwrap(),
            "",
            &mut found,
        );
        assert!(found.len() >= 11, "{found:?}");
        for section in found {
            let key = if section.is_empty() {
                "bogus".to_owned()
            } else {
                format!("{section}.bogus")
            };
            let mut config = RunConfig::default();
            assert_eq!(
                config.set(&format!("{key}=1")),
                Err(ConfigError::UnknownKey(key.clone())),
                "--set {key}"
            );
        }
    }

    /// The `config.toml` text of the default config, a config with every optional field set
    /// and every preset, as written before `src/config.rs` became `src/config/`: run folders
    /// written by older builds read back the same, and new ones are byte-identical.
    const PINNED: [(&str, &str); 11] = [
        ("default", include_str!("fixtures/default.toml")),
        ("options-set", include_str!("fixtures/options-set.toml")),
        ("quick", include_str!("fixtures/quick.toml")),
        ("hinton-mnist", include_str!("fixtures/hinton-mnist.toml")),
        ("logit-l2", include_str!("fixtures/logit-l2.toml")),
        ("noisy-teacher", include_str!("fixtures/noisy-teacher.toml")),
        ("munge", include_str!("fixtures/munge.toml")),
        ("ensemble", include_str!("fixtures/ensemble.toml")),
        ("omit-3", include_str!("fixtures/omit-3.toml")),
        ("only-7-8", include_str!("fixtures/only-7-8.toml")),
        ("small-30", include_str!("fixtures/small-30.toml")),
    ];

    /// The configuration pinned under `name`.
    fn pinned_config(name: &str) -> RunConfig {
        match name {
            "default" => RunConfig::default(),
            "options-set" => {
                let mut options = RunConfig::default();
                options.data.dir = Some("some/mnist".into());
                options.data.train_limit = Some(1000);
                options.data.test_limit = Some(500);
                options.data.validation = Some(100);
                options.teacher.weights = Some("some/teacher.safetensors".into());
                options.transfer.limit = Some(300);
                options.data.source = DataSource::Plane;
                options
            }
            preset => crate::presets::find(preset).unwrap().config(),
        }
    }

    /// A run folder's `config.toml` from before the later methods' fields existed reads back
    /// as the same configuration, the new fields at their defaults.
    #[test]
    fn configs_written_before_the_later_methods_read_back() {
        let old = include_str!("fixtures/default-before-methods.toml");
        assert!(!old.contains("dkd_beta"));
        assert_eq!(RunConfig::from_toml(old).unwrap(), RunConfig::default());
    }

    #[test]
    fn toml_text_is_byte_identical_to_the_pinned_files() {
        assert_eq!(
            PINNED.len(),
            crate::presets::PRESETS.len() + 2,
            "a preset is not pinned"
        );
        for (name, text) in PINNED {
            let config = pinned_config(name);
            assert_eq!(config.to_toml(), text, "{name}: to_toml changed");
            assert_eq!(
                RunConfig::from_toml(text).unwrap(),
                config,
                "{name}: from_toml changed"
            );
        }
    }
}
