package commands

import "testing"

func TestPullCommandsMatchTranscripts(t *testing.T) {
	tests := []struct {
		name    string
		image   string
		cfgV1   bool
		rm      string
		pull    string
		inspect string
	}{
		{
			name:    "Kamal 1.5.2",
			cfgV1:   true,
			image:   seedV1().AbsoluteImage(seedVersion),
			rm:      "docker image rm --force 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127",
			pull:    "docker pull 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127",
			inspect: `docker inspect -f '{{ .Config.Labels.service }}' 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 | grep -x app || (echo "Image 127.0.0.1:5000/app:24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127 is missing the 'service' label" && exit 1)`,
		},
		{
			name:    "Kamal 2.12",
			image:   rigV2().AbsoluteImage(rigVersion),
			rm:      "docker image rm --force 127.0.0.1:5556/app:28b352e33ce29611e6d9c421fb0c8cbe332d9657",
			pull:    "docker pull 127.0.0.1:5556/app:28b352e33ce29611e6d9c421fb0c8cbe332d9657",
			inspect: `docker inspect -f '{{ .Config.Labels.service }}' 127.0.0.1:5556/app:28b352e33ce29611e6d9c421fb0c8cbe332d9657 | grep -x app || (echo "Image 127.0.0.1:5556/app:28b352e33ce29611e6d9c421fb0c8cbe332d9657 is missing the 'service' label" && exit 1)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rigV2()
			if tt.cfgV1 {
				cfg = seedV1()
			}
			assertCommand(t, ImageRemove(tt.image), tt.rm, tt.rm)
			assertCommand(t, Pull(tt.image), tt.pull, tt.pull)
			assertCommand(t, ValidateImage(cfg, tt.image), tt.inspect, tt.inspect)
		})
	}
	const mirror = "docker info --format '{{index .RegistryConfig.Mirrors 0}}'"
	assertCommand(t, MirrorProbe(), mirror, mirror)
}
