/**
 * Plain Kubernetes API objects as they arrive over the wire (JSON), reduced to the fields
 * kubectl-sts reads. Timestamps are RFC 3339 strings, not Date objects. Core functions take
 * and return these; they never see an API client.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  [k: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

export interface PersistentVolumeClaimSpec {
  accessModes?: string[];
  storageClassName?: string;
  volumeName?: string;
  resources?: { requests?: { storage?: string } };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: PersistentVolumeClaimSpec;
  status?: { phase?: string; capacity?: { storage?: string } };
}

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: LabelSelector;
    template: PodTemplateSpec;
    volumeClaimTemplates?: { metadata: Partial<ObjectMeta>; spec: PersistentVolumeClaimSpec }[];
    updateStrategy?: {
      type?: 'RollingUpdate' | 'OnDelete';
      rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
    };
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    ordinals?: { start?: number };
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
  };
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { reason?: string; exitCode?: number; message?: string };
  };
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    startTime?: string;
  };
}

export interface PersistentVolume extends KubeObject {
  spec: {
    capacity?: { storage?: string };
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    storageClassName?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string; kind?: string };
    local?: { path: string };
    hostPath?: { path: string; type?: string };
    csi?: { driver: string; volumeHandle: string };
    nfs?: { server: string; path: string };
    nodeAffinity?: {
      required?: {
        nodeSelectorTerms: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[];
      };
    };
    [k: string]: unknown;
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; reason?: string; message?: string };
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
}

export interface Service extends KubeObject {
  spec: {
    clusterIP?: string;
    clusterIPs?: string[];
    selector?: Record<string, string>;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
    type?: string;
  };
}

export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    hostname?: string;
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
    nodeName?: string;
  }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export interface ControllerRevision extends KubeObject {
  revision: number;
  data?: { spec?: { template?: PodTemplateSpec } } & Record<string, unknown>;
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] };
}

export interface KubeEvent extends KubeObject {
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export interface PodDisruptionBudget extends KubeObject {
  spec: {
    /** policy/v1: null selects no pod; an empty selector selects every pod of the namespace. */
    selector?: LabelSelector | null;
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
  status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; expectedPods?: number };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  reclaimPolicy?: string;
}
