// What the receptor announces to the router: the address it is reached on, whatever address it listens on.
import { machineIpv4 } from '@diego/server-support';
import { RouterRegistration, registryMessage } from './router-registration';
import pino from 'pino';

describe('registryMessage', () => {
  it('announces the host it listens on when that is one address', () => {
    expect(registryMessage('10.244.16.6:8887', ['receptor.example.com'])).toEqual({
      host: '10.244.16.6', port: 8887, uris: ['receptor.example.com'],
    });
  });

  it("announces this machine's address when it listens on every interface", () => {
    for (const address of ['0.0.0.0:8887', '[::]:8887', ':8887']) {
      expect(registryMessage(address, ['a.example.com', 'b.example.com'])).toEqual({
        host: machineIpv4(), port: 8887, uris: ['a.example.com', 'b.example.com'],
      });
    }
  });
});

describe('RouterRegistration', () => {
  const config = { natsAddresses: ['127.0.0.1:4222'], natsUsername: 'nats', natsPassword: 'secret', domainNames: ['r.example.com'] };

  it('refuses a configuration without NATS servers or routes', () => {
    const logger = pino({ level: 'silent' });
    expect(() => new RouterRegistration({ ...config, natsAddresses: [] }, logger)).toThrow('at least one NATS address');
    expect(() => new RouterRegistration({ ...config, domainNames: [] }, logger)).toThrow('at least one domain name');
  });
});
