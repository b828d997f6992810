/**
 * The Linux isolation pieces a root cell's launcher uses: cgroups for limits, a network of its own per container
 * with Diego's egress rules inside it, and userspace port forwarding.
 */
export { CellCgroups, cpuSharesFor, cpuWeightForShares, findHierarchies } from './cgroups';
export type { ContainerCgroup, ContainerLimits, Hierarchy } from './cgroups';
export { CellNetwork, cellNetworkNames, countCellNetwork, removeCellNetworkLeftovers } from './network';
export type { CellNetworkNames, CellNetworkOptions, ContainerNetwork } from './network';
export { egressRuleset, InvalidEgressRuleError } from './egress';
export { forwardPort } from './port-forwarder';
export type { PortForward, PortForwardSpec } from './port-forwarder';
export { CommandError, runCommand } from './command';
