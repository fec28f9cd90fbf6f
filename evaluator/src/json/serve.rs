//! A serve: a variant's name, or `{"split": [{"variant", "weight"}], "bucketBy"?, "salt"?}`.
//! Error paths are relative to the serve (`split[1].weight`).

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use serde_json::Value;

use super::object;
use crate::error::ValidationError;
use crate::fields::{optional, refuse_unknown};
use crate::rule::Field;
use crate::serve::{salt_out_of_range, weight_out_of_range, Serve, Slice, Split, SPLIT_TOTAL};
use crate::variant::Variants;

pub(super) fn serve(value: &Value, variants: &Variants) -> Result<Serve, ValidationError> {
    match value {
        Value::String(name) => variants.resolve(name, "").map(Serve::Variant),
        Value::Object(map) => {
            refuse_unknown(map, &["split", "bucketBy", "salt"])?;
            let slices = match map.get("split") {
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| slice(item, i, variants))
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => {
                    return Err(ValidationError::new(
                        "split",
                        "must be a non-empty array of {\"variant\", \"weight\"}",
                    ))
                }
                None => return Err(ValidationError::new("split", "required")),
            };
            let bucket_by = match optional(map, "bucketBy") {
                None => None,
                Some(Value::String(name)) => Some(
                    Field::parse(name)
                        .map_err(|e| ValidationError::new("bucketBy", e.message()))?,
                ),
                Some(_) => return Err(ValidationError::new("bucketBy", "must be a field name")),
            };
            let salt = match optional(map, "salt") {
                None => None,
                Some(Value::String(salt)) => Some(salt.to_string()),
                Some(_) => return Err(salt_out_of_range()),
            };
            Split::new(slices, bucket_by, salt).map(Serve::Split)
        }
        _ => Err(ValidationError::new(
            "",
            "must be a variant name or {\"split\": [{\"variant\", \"weight\"}]}",
        )),
    }
}

fn slice(value: &Value, i: usize, variants: &Variants) -> Result<Slice, ValidationError> {
    let path = format!("split[{i}]");
    let map = object(value, &path)?;
    refuse_unknown(map, &["variant", "weight"]).map_err(|e| e.within(&path))?;
    let variant = match map.get("variant") {
        Some(Value::String(name)) => variants.resolve(name, &format!("{path}.variant"))?,
        Some(_) => {
            return Err(ValidationError::new(
                format!("{path}.variant"),
                "must be a variant name",
            ))
        }
        None => return Err(ValidationError::new(format!("{path}.variant"), "required")),
    };
    let weight = match map.get("weight") {
        Some(weight) => weight
            .as_u64()
            .filter(|w| *w <= u64::from(SPLIT_TOTAL))
            .and_then(|w| u32::try_from(w).ok())
            .ok_or_else(|| weight_out_of_range(i))?,
        None => return Err(ValidationError::new(format!("{path}.weight"), "required")),
    };
    Ok(Slice { variant, weight })
}
