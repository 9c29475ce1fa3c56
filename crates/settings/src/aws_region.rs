//! The regions deployments run in.

use tenantry_kernel::closed_set;

closed_set!(
    /// AWS region codes (commercial, GovCloud and China partitions) as of 2026-11, from AWS's
    /// published region table. A new region is one line here.
    AwsRegion {
        UsEast1 => "us-east-1", UsEast2 => "us-east-2", UsWest1 => "us-west-1", UsWest2 => "us-west-2",
        AfSouth1 => "af-south-1", ApEast1 => "ap-east-1", ApEast2 => "ap-east-2",
        ApSouth1 => "ap-south-1", ApSouth2 => "ap-south-2",
        ApSoutheast1 => "ap-southeast-1", ApSoutheast2 => "ap-southeast-2", ApSoutheast3 => "ap-southeast-3",
        ApSoutheast4 => "ap-southeast-4", ApSoutheast5 => "ap-southeast-5", ApSoutheast7 => "ap-southeast-7",
        ApNortheast1 => "ap-northeast-1", ApNortheast2 => "ap-northeast-2", ApNortheast3 => "ap-northeast-3",
        CaCentral1 => "ca-central-1", CaWest1 => "ca-west-1",
        EuCentral1 => "eu-central-1", EuCentral2 => "eu-central-2", EuWest1 => "eu-west-1", EuWest2 => "eu-west-2",
        EuWest3 => "eu-west-3", EuSouth1 => "eu-south-1", EuSouth2 => "eu-south-2", EuNorth1 => "eu-north-1",
        IlCentral1 => "il-central-1", MeSouth1 => "me-south-1", MeCentral1 => "me-central-1",
        MxCentral1 => "mx-central-1", SaEast1 => "sa-east-1",
        UsGovEast1 => "us-gov-east-1", UsGovWest1 => "us-gov-west-1",
        CnNorth1 => "cn-north-1", CnNorthwest1 => "cn-northwest-1",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_the_seed_parse() {
        for ok in ["us-west-2", "ap-northeast-1", "ap-southeast-2", "us-east-1"] {
            assert!(AwsRegion::parse(ok).is_ok(), "{ok}");
        }
        assert!(AwsRegion::parse("us-central-1").is_err());
        assert!(AwsRegion::parse("US-EAST-1").is_err());
    }
}
