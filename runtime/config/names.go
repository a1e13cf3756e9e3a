package config

// RegistryServer returns registry.server ("" for Docker Hub).
func (c *Config) RegistryServer() string { return c.Registry.Server }

// Repository is "<registry.server>/<image>", or "<image>" for Docker Hub.
// c.Image is already Kamal's image: the service when a Kamal 2 local
// registry lets the image be omitted (see build).
func (c *Config) Repository() string {
	if c.Registry.Server == "" {
		return c.Image
	}
	return c.Registry.Server + "/" + c.Image
}

// AbsoluteImage is "<repository>:<version>".
func (c *Config) AbsoluteImage(version string) string {
	return c.Repository() + ":" + version
}

// LatestTag is "latest", or "latest-<destination>".
func (c *Config) LatestTag() string {
	if c.Destination == "" {
		return "latest"
	}
	return "latest-" + c.Destination
}

// LatestImage is "<repository>:<latest tag>".
func (c *Config) LatestImage() string {
	return c.Repository() + ":" + c.LatestTag()
}

// DefaultRunDirectory is where Kamal keeps its files on a host: always
// for Kamal 2, and Kamal 1's default run_directory.
const DefaultRunDirectory = ".kamal"

// RunDir is the run directory: Kamal 1's run_directory, Kamal 2's
// DefaultRunDirectory. The lock, the audit log and `mkdir -p` before them
// all use it.
func (c *Config) RunDir() string {
	if c.Generation == Kamal1 && c.RunDirectory != "" {
		return c.RunDirectory
	}
	return DefaultRunDirectory
}
