package doctor

// Inspected reports whether p holds anything to check: a server, a
// repository, a bucket probe, or a configuration file of a known kind. A
// run without any of them has no verdict; it is not clean.
func (p Params) Inspected() bool {
	if p.Live != nil || p.Coverage != nil || len(p.Buckets) > 0 {
		return true
	}
	in := p.Inputs
	return in != nil && len(in.Configs)+len(in.Workloads)+len(in.Claims)+len(in.Reclaim)+len(in.Helm)+len(in.BackupConfigs) > 0
}
