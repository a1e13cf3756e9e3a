package config

// RegistryServer returns registry.server ("" for Docker Hub).
func (c *Config) RegistryServer() string { return c.Registry.Server }

// Repository is "<registry.server>/<image>", or "<image>" for Docker Hub.
// With a Kamal 2 local registry and no image, the image is the service.
func (c *Config) Repository() string {
	image := c.Image
	if image == "" && c.Registry.Local {
		image = c.Service
	}
	if c.Registry.Server == "" {
		return image
	}
	return c.Registry.Server + "/" + image
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
