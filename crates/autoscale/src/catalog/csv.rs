//! Catalog CSV: the shared `instance-types.csv` format, plus optional columns.
//!
//! Columns are found by header name, in any order. Required: `name`, `arch` (`amd64`/`arm64`),
//! `vcpu`, `memory_mib`, `max_pods`, and the on-demand price in USD/hour as
//! `od_price_usd_hr_us_east_1` or `od_price_usd_hr` (at most six decimals). Optional:
//! `family`, `category`, `generation` (derived from the name when absent or empty),
//! `gpu_count`, `gpu_name`, `gpu_memory_mib` (per GPU), `gpu_manufacturer` (default `nvidia`),
//! `accelerator_name`, `accelerator_manufacturer` (default `aws`), `neuron_count`,
//! `neuroncore_count`, `spot_price_usd_hr`, `zones` (`;`-separated). Blank lines and lines
//! starting with `#` are skipped. Quoting is not supported (no field of this format needs it).

use super::{AcceleratorInfo, Arch, GpuInfo, InstanceType, parse_type_name};
use crate::error::AutoscaleError;
use crate::money::Money;

const PRICE_COLUMNS: [&str; 2] = ["od_price_usd_hr_us_east_1", "od_price_usd_hr"];

/// Parses a catalog CSV. Every error names the source, the line, the type and the column.
pub fn parse_csv(source: &str, text: &str) -> Result<Vec<InstanceType>, AutoscaleError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(AutoscaleError::new(source, "header", "the catalog is empty"));
    };
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let require =
        |name: &str| col(name).ok_or_else(|| AutoscaleError::new(source, "header", format!("missing column {name:?}")));
    let name_i = require("name")?;
    let arch_i = require("arch")?;
    let vcpu_i = require("vcpu")?;
    let mem_i = require("memory_mib")?;
    let pods_i = require("max_pods")?;
    let price_i = PRICE_COLUMNS.iter().find_map(|c| col(c)).ok_or_else(|| {
        AutoscaleError::new(
            source,
            "header",
            format!("missing column {:?} (or {:?})", PRICE_COLUMNS[0], PRICE_COLUMNS[1]),
        )
    })?;
    let opt = |name: &str| col(name);
    let (family_i, category_i, generation_i) = (opt("family"), opt("category"), opt("generation"));
    let (gpu_count_i, gpu_name_i, gpu_mem_i, gpu_man_i) =
        (opt("gpu_count"), opt("gpu_name"), opt("gpu_memory_mib"), opt("gpu_manufacturer"));
    let (acc_name_i, acc_man_i, neuron_i, cores_i) =
        (opt("accelerator_name"), opt("accelerator_manufacturer"), opt("neuron_count"), opt("neuroncore_count"));
    let (spot_i, zones_i) = (opt("spot_price_usd_hr"), opt("zones"));

    let mut out: Vec<InstanceType> = Vec::new();
    for (lineno, line) in lines {
        let line_no = lineno + 1;
        if line.contains('"') {
            return Err(AutoscaleError::new(source, format!("line {line_no}"), "quoted fields are not supported"));
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(AutoscaleError::new(
                source,
                format!("line {line_no}"),
                format!("{} fields, the header has {}", cells.len(), columns.len()),
            ));
        }
        let name = cells[name_i];
        let err =
            |column: &str, msg: String| AutoscaleError::new(source, format!("line {line_no} ({name}): {column}"), msg);
        let cell = |i: Option<usize>| i.map(|i| cells[i]).filter(|c| !c.is_empty());
        let uint = |i: usize, column: &str| -> Result<u64, AutoscaleError> {
            cells[i].parse::<u64>().map_err(|_| err(column, format!("{:?} is not a non-negative integer", cells[i])))
        };
        let opt_uint = |i: Option<usize>, column: &str| -> Result<Option<u64>, AutoscaleError> {
            match cell(i) {
                None => Ok(None),
                Some(c) => {
                    c.parse::<u64>().map(Some).map_err(|_| err(column, format!("{c:?} is not a non-negative integer")))
                }
            }
        };
        if name.is_empty() {
            return Err(err("name", "empty".into()));
        }
        let derived = parse_type_name(name);
        let (family, size, category, generation) = match (&derived, cell(family_i)) {
            (Some((f, s, c, g)), _) => (f.clone(), s.clone(), c.clone(), *g),
            (None, Some(f)) => {
                let size = name.split_once('.').map_or("", |(_, s)| s).to_string();
                (f.to_string(), size, String::new(), 0)
            }
            (None, None) => {
                return Err(err("name", "cannot derive family, category and generation; add those columns".into()));
            }
        };
        let family = cell(family_i).map_or(family, str::to_string);
        let category = cell(category_i).map_or(category, str::to_string);
        let generation = match opt_uint(generation_i, "generation")? {
            Some(g) => u32::try_from(g).map_err(|_| err("generation", "too large".into()))?,
            None => generation,
        };
        let arch = Arch::parse(cells[arch_i])
            .ok_or_else(|| err("arch", format!("{:?} is not amd64 or arm64", cells[arch_i])))?;
        let vcpu = uint(vcpu_i, "vcpu")?;
        let memory_mib = uint(mem_i, "memory_mib")?;
        let max_pods = uint(pods_i, "max_pods")?;
        if vcpu == 0 || vcpu > 4_096 {
            return Err(err("vcpu", format!("{vcpu} is out of range 1..=4096")));
        }
        if memory_mib == 0 || memory_mib > (1 << 26) {
            return Err(err("memory_mib", format!("{memory_mib} is out of range")));
        }
        if max_pods == 0 || max_pods > 100_000 {
            return Err(err("max_pods", format!("{max_pods} is out of range 1..=100000")));
        }
        let price_col = columns[price_i];
        let od_price = Money::parse_usd(cells[price_i]).ok_or_else(|| {
            err(price_col, format!("{:?} is not a price in USD with at most 6 decimals", cells[price_i]))
        })?;
        let spot_price = match cell(spot_i) {
            None => None,
            Some(c) => Some(Money::parse_usd(c).ok_or_else(|| {
                err("spot_price_usd_hr", format!("{c:?} is not a price in USD with at most 6 decimals"))
            })?),
        };
        let gpu = match opt_uint(gpu_count_i, "gpu_count")? {
            None | Some(0) => None,
            Some(count) => {
                let name = cell(gpu_name_i).ok_or_else(|| err("gpu_name", "required when gpu_count is set".into()))?;
                let memory_mib = opt_uint(gpu_mem_i, "gpu_memory_mib")?.unwrap_or(0);
                Some(GpuInfo {
                    count: u32::try_from(count).map_err(|_| err("gpu_count", "too large".into()))?,
                    name: name.to_string(),
                    manufacturer: cell(gpu_man_i).unwrap_or("nvidia").to_string(),
                    memory_mib,
                })
            }
        };
        let accelerator = match opt_uint(neuron_i, "neuron_count")? {
            None | Some(0) => None,
            Some(count) => {
                let name = cell(acc_name_i)
                    .ok_or_else(|| err("accelerator_name", "required when neuron_count is set".into()))?;
                let cores = opt_uint(cores_i, "neuroncore_count")?.unwrap_or(count);
                Some(AcceleratorInfo {
                    name: name.to_string(),
                    manufacturer: cell(acc_man_i).unwrap_or("aws").to_string(),
                    count: u32::try_from(count).map_err(|_| err("neuron_count", "too large".into()))?,
                    cores: u32::try_from(cores).map_err(|_| err("neuroncore_count", "too large".into()))?,
                })
            }
        };
        let zones =
            cell(zones_i).map(|z| z.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
        if out.iter().any(|t| t.name == name) {
            return Err(err("name", "listed twice".into()));
        }
        out.push(InstanceType {
            name: name.to_string(),
            family,
            size,
            category,
            generation,
            arch,
            vcpu: vcpu as u32,
            memory_mib,
            gpu,
            accelerator,
            max_pods: max_pods as u32,
            od_price,
            spot_price,
            zones,
        });
    }
    if out.is_empty() {
        return Err(AutoscaleError::new(source, "rows", "the catalog has no instance types"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "name,family,category,generation,arch,vcpu,memory_mib,gpu_count,gpu_name,gpu_memory_mib,max_pods,od_price_usd_hr_us_east_1";

    #[test]
    fn reads_the_shared_format() {
        let text = format!(
            "{HEADER}\nm5.large,m5,m,5,amd64,2,8192,,,,29,0.096000\ng4dn.xlarge,g4dn,g,4,amd64,4,16384,1,t4,16384,29,0.526000\n"
        );
        let types = parse_csv("t.csv", &text).unwrap();
        assert_eq!(types.len(), 2);
        assert_eq!((types[0].name.as_str(), types[0].od_price), ("m5.large", Money(96_000)));
        assert_eq!(types[1].gpu.as_ref().map(|g| (g.count, g.name.as_str())), Some((1, "t4")));
    }

    #[test]
    fn reduced_columns_and_extras() {
        let text = "# my catalog\nname,arch,vcpu,memory_mib,max_pods,od_price_usd_hr,spot_price_usd_hr,zones\n\
                    c7g.large,arm64,2,4096,29,0.0725,0.03,eu-west-1a;eu-west-1b\n";
        let types = parse_csv("mine.csv", text).unwrap();
        let t = &types[0];
        assert_eq!((t.family.as_str(), t.category.as_str(), t.generation), ("c7g", "c", 7));
        assert_eq!(t.spot_price, Some(Money(30_000)));
        assert_eq!(t.zones.as_deref(), Some(&["eu-west-1a".to_string(), "eu-west-1b".to_string()][..]));
    }

    #[test]
    fn errors_name_line_type_and_column() {
        let bad = |row: &str| parse_csv("t.csv", &format!("{HEADER}\n{row}\n")).unwrap_err().to_string();
        assert_eq!(
            bad("m5.large,m5,m,5,sparc,2,8192,,,,29,0.096"),
            "t.csv: line 2 (m5.large): arch: \"sparc\" is not amd64 or arm64"
        );
        assert_eq!(
            bad("m5.large,m5,m,5,amd64,two,8192,,,,29,0.096"),
            "t.csv: line 2 (m5.large): vcpu: \"two\" is not a non-negative integer"
        );
        assert_eq!(
            bad("m5.large,m5,m,5,amd64,2,8192,,,,29,0.0960001"),
            "t.csv: line 2 (m5.large): od_price_usd_hr_us_east_1: \"0.0960001\" is not a price in USD with at most 6 decimals"
        );
        assert_eq!(bad("m5.large,m5,m,5,amd64,2,8192,,,,29"), "t.csv: line 2: 11 fields, the header has 12");
        assert_eq!(
            bad("g4dn.xlarge,g4dn,g,4,amd64,4,16384,1,,16384,29,0.526"),
            "t.csv: line 2 (g4dn.xlarge): gpu_name: required when gpu_count is set"
        );
        assert_eq!(
            parse_csv("t.csv", "name,arch\n").unwrap_err().to_string(),
            "t.csv: header: missing column \"vcpu\""
        );
        assert!(parse_csv("t.csv", "").is_err());
        let dup =
            format!("{HEADER}\nm5.large,m5,m,5,amd64,2,8192,,,,29,0.096\nm5.large,m5,m,5,amd64,2,8192,,,,29,0.096\n");
        assert!(parse_csv("t.csv", &dup).unwrap_err().to_string().contains("listed twice"));
    }
}
