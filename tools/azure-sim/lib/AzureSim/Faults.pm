# Faults on demand: tests ask for the next N requests to a service and path
# to answer 429/5xx, to answer late, or to lose their connection.
package AzureSim::Faults;
use Mojo::Base -base, -signatures;

has list    => sub { [] };
has next_id => 1;

my %SERVICES = map { $_ => 1 } qw(entra arm keyvault graph any);

# A fault: service, path (a regex, or a prefix when match is "prefix"),
# optional method, then what happens: status (+ retry_after), delay_ms,
# drop; count = how many requests it applies to (absent: until cleared).
sub add ($self, $in) {
    die "a fault needs a JSON object\n" unless ref $in eq 'HASH';
    my $service = $in->{service} // 'any';
    die "unknown service '$service'\n" unless $SERVICES{$service};
    my $match = $in->{match} // 'regex';
    die "match must be 'regex' or 'prefix'\n" unless $match =~ /\A(?:regex|prefix)\z/;
    my $re;
    if ($match eq 'regex') {
        $re = eval { qr/$in->{path}/ } if defined $in->{path};
        die "path is not a valid regex\n" if defined $in->{path} && !$re;
    }
    my $status = $in->{status};
    die "status must be 4xx or 5xx\n" if defined $status && $status !~ /\A[45]\d\d\z/;
    die "a fault needs status, delay_ms or drop\n"
        unless defined $status || $in->{delay_ms} || $in->{drop};
    die "count must be a positive integer\n"
        if defined $in->{count} && $in->{count} !~ /\A[1-9]\d*\z/;
    my $fault = {
        id          => $self->next_id,
        service     => $service,
        path        => $in->{path},
        match       => $match,
        method      => defined $in->{method} ? uc $in->{method} : undef,
        status      => $status,
        retry_after => $in->{retry_after},
        delay_ms    => $in->{delay_ms} // 0,
        drop        => $in->{drop} ? 1 : 0,
        remaining   => $in->{count},
        hits        => 0,
        _re         => $re,
    };
    $self->next_id($self->next_id + 1);
    push @{ $self->list }, $fault;
    return $fault;
}

sub describe ($self) {
    return [map { my %f = %$_; delete $f{_re}; \%f } @{ $self->list }];
}

sub remove ($self, $id) {
    my $before = @{ $self->list };
    @{ $self->list } = grep { $_->{id} != $id } @{ $self->list };
    return $before != @{ $self->list };
}

sub clear ($self) { @{ $self->list } = () }

sub _matches ($f, $service, $method, $path) {
    return 0 unless $f->{service} eq 'any' || $f->{service} eq $service;
    return 0 if defined $f->{method} && $f->{method} ne $method;
    return 1 unless defined $f->{path};
    return index($path, $f->{path}) == 0 if $f->{match} eq 'prefix';
    return $path =~ $f->{_re};
}

# The first fault that applies to this request, used up by one.
sub take ($self, $service, $method, $path) {
    for my $f (@{ $self->list }) {
        next unless _matches($f, $service, $method, $path);
        $f->{hits}++;
        if (defined $f->{remaining} && --$f->{remaining} <= 0) {
            @{ $self->list } = grep { $_ != $f } @{ $self->list };
        }
        return $f;
    }
    return undef;
}

1;
