import { ExitCode, usageError } from '../../errors.js';
import type { BuiltImage, ImageName } from '../../tools/images.js';
import { IMAGE_NAMES, buildImages, containerdAddress, importImages } from '../../tools/images.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';
import { runSteps } from '../../steps/progress.js';

export const command: CommandModule = {
  usage: '[--only pause,coredns,agnhost] [--rebuild] [--import] [setting flags]',
  description: `Builds the images a local cluster needs without pulling from any registry, for
machines that cannot reach one: each is one static binary in a minimal OCI archive in IMAGES_DIR.
pause:   registry.k8s.io/pause:<kubeadm's PauseVersion for KUBE_VERSION>, compiled with gcc
         -static from build/pause/linux/pause.c of the k8s.io/kubernetes module (Go's module cache)
coredns: COREDNS_IMAGE, built with Go from github.com/coredns/coredns at kubeadm's CoreDNSVersion
agnhost: SMOKE_IMAGE, built with Go from k8s.io/kubernetes/test/images/agnhost at KUBE_VERSION, with
         this machine's curl, dig and cat and their libraries (the smoke suite runs them in its client)
An archive already in IMAGES_DIR is used as it is (put your own there under the same file name
to use it instead of a build); --rebuild builds again. --import then loads every archive into
containerd's k8s.io namespace (the kubelet's) with \`ctr images import\` at CONTAINER_RUNTIME_ENDPOINT.
Point containerd's sandbox image (sandbox_image in its CRI config) at the pause reference printed.

Exit codes: 0 built (or already there), 2 bad usage, 3 the machine lacks something (Go, gcc,
static libc, containerd), 130 interrupted.`,
  options: {
    only: { type: 'string', value: 'NAMES', description: `comma-separated subset of ${IMAGE_NAMES.join(', ')}` },
    rebuild: { type: 'boolean', description: 'build again even when the archive is already in IMAGES_DIR' },
    import: { type: 'boolean', description: "import the archives into containerd (ctr -n k8s.io images import)" },
  },
  positionals: { min: 0, max: 0 },
  settings: true,
  async run(io, commandLine) {
    const { values: settings } = settingsFor(io, commandLine);
    const onlyText = stringOption(commandLine.values, 'only') ?? '';
    const only = onlyText === '' ? [] : onlyText.split(',').map((n) => n.trim());
    const unknown = only.filter((n) => !(IMAGE_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) throw usageError(`tools images --only: unknown image ${unknown.map((n) => JSON.stringify(n)).join(', ')}`, `images it builds: ${IMAGE_NAMES.join(', ')}`);
    let built: BuiltImage[] = [];
    const steps = [{
      title: 'Build images',
      run: async (_context: null, progress: (line: string) => void) => {
        built = await buildImages(
          { runner: io.runner, env: io.env, signal: io.signal, toolsDir: settings.toolsDir, goCacheDir: settings.goCacheDir, goBinary: settings.goBinary, progress },
          { version: settings.kubeVersion, imagesDir: settings.imagesDir, corednsImage: settings.corednsImage, agnhostImage: settings.smokeImage, only: only as ImageName[], rebuild: flagOption(commandLine.values, 'rebuild'), cc: io.env.CC ?? '' },
        );
      },
    }];
    await runSteps(io, steps, null);
    if (flagOption(commandLine.values, 'import')) {
      await runSteps(io, [{
        title: 'Import images into containerd',
        run: async () => importImages(io.runner, io.signal, { ctr: settings.ctrBinary, address: containerdAddress(settings.containerRuntimeEndpoint), archives: built.map((b) => b.archive) }),
      }], null);
    }
    for (const image of built) {
      io.out(`${image.reference}\t${image.archive}\t${image.built ? `built from ${image.origin}` : 'already there'}\n`);
    }
    return ExitCode.ok;
  },
};
